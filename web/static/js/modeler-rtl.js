/* Persian labels on a bpmn-js canvas. diagram-js lays each label line out as a <tspan> whose x is the line's
   left edge, measured for left-to-right text. In a right-to-left page the text inherits direction: rtl and is
   shifted off its box; forced to ltr, the line's paragraph direction is wrong and punctuation, digits and Latin
   words land on the wrong side ("هزینه دارد؟" shows its question mark on the right). For each line whose first
   strong character is right-to-left we set direction="rtl" and text-anchor="end": the end of an RTL line is
   its left edge, so it keeps diagram-js's position while the bidi algorithm orders the line as Persian. */
(function () {
  "use strict";

  var RTL = /[\u0590-\u08FF\uFB1D-\uFDFF\uFE70-\uFEFF]/;
  var LTR = /[A-Za-z\u00C0-\u024F]/;

  function firstStrong(text) {
    for (var i = 0; i < text.length; i++) {
      if (RTL.test(text[i])) { return "rtl"; }
      if (LTR.test(text[i])) { return "ltr"; }
    }
    return null;
  }

  function fixText(text) {
    var spans = text.querySelectorAll("tspan");
    var dir = firstStrong(text.textContent || "");
    if (!spans.length) { spans = [text]; }
    Array.prototype.forEach.call(spans, function (span) {
      var lineDir = firstStrong(span.textContent || "") || dir || "ltr";
      if (lineDir === "rtl") {
        span.setAttribute("direction", "rtl");
        span.setAttribute("text-anchor", "end");
        span.style.unicodeBidi = "embed";
      } else {
        span.setAttribute("direction", "ltr");
        span.removeAttribute("text-anchor");
      }
    });
    text.setAttribute("data-madam-rtl", "done");
  }

  function fixAll(root) {
    Array.prototype.forEach.call(root.querySelectorAll("svg text"), fixText);
  }

  function attach(container) {
    fixAll(container);
    var pending = false;
    var observer = new MutationObserver(function () {
      if (pending) { return; }
      pending = true;
      window.requestAnimationFrame(function () { pending = false; fixAll(container); });
    });
    observer.observe(container, { childList: true, subtree: true, characterData: true });
    return observer;
  }

  window.MadamRtl = { attach: attach, fixAll: fixAll, firstStrong: firstStrong };
})();
