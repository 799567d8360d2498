"""The user's words for the registry's error codes (English ids; Persian in subscribers.po)."""

from flask_babel import gettext

from core.messages import register_messages

MESSAGES = {
    "legal_id.invalid": lambda p: gettext("This legal entity national ID (11 digits) is not valid."),
    "postal_code.invalid": lambda p: gettext("A postal code is 10 digits."),
    "phone.invalid": lambda p: gettext("A phone number is 8 to 11 digits."),
    "email.invalid": lambda p: gettext("This email address is not valid."),
    "digits.invalid": lambda p: gettext("Enter digits only, at most %(n)s.", n=p.get("maximum")),
    "coordinates.outside_iran": lambda p: gettext("The latitude and longitude must be a point inside Iran."),
    "choice.invalid": lambda p: gettext("Choose one of the listed options."),
    "date.in_future": lambda p: gettext("This date cannot be in the future."),
    "date.before_installation": lambda p: gettext("The removal date is before the installation date."),
    "number.invalid": lambda p: gettext("Enter a valid whole number."),
    "reading.required": lambda p: gettext("Enter the meter reading."),
    "reading.invalid": lambda p: gettext("A meter reading is a whole number, zero or more."),
    "reading.less_than_initial": lambda p: gettext("The final reading is less than the initial reading."),
    "region.invalid": lambda p: gettext("Choose a region."),
    "numbering.exhausted": lambda p: gettext("No more numbers are available in this series."),
    "subscriber.national_id_taken": lambda p: gettext("A subscriber with this national ID already exists."),
    "subscriber.not_found": lambda p: gettext("The subscriber was not found."),
    "subscribers.not_found": lambda p: gettext("The subscriber was not found."),
    "premises.not_found": lambda p: gettext("The premise was not found."),
    "service_point.not_found": lambda p: gettext("The service point was not found."),
    "service_points.not_found": lambda p: gettext("The service point was not found."),
    "service_point.terminated": lambda p: gettext("This service point has been terminated."),
    "service_point.has_meter": lambda p: gettext("A meter is already installed on this service point."),
    "meter.not_found": lambda p: gettext("The meter was not found."),
    "meters.not_found": lambda p: gettext("The meter was not found."),
    "meter.serial_taken": lambda p: gettext("A meter with this serial number already exists."),
    "meter.not_in_stock": lambda p: gettext("Meter %(serial)s is not in stock.", serial=p.get("serial", "")),
    "meter.utility_mismatch": lambda p: gettext("This meter is for another utility than the service point."),
    "meter.not_installed": lambda p: gettext("No meter is installed on this service point."),
    "contract.not_found": lambda p: gettext("The contract was not found."),
    "contracts.not_found": lambda p: gettext("The contract was not found."),
    "contract.not_active": lambda p: gettext("Contract %(no)s is not active.", no=p.get("subscription_no", "")),
    "contract.service_point_taken": lambda p: gettext("This service point already has an active contract."),
    "contract.same_owner": lambda p: gettext("The new owner is the current owner."),
    "contract.ends_before_start": lambda p: gettext("The end date is before the contract's start date."),
    "document.empty": lambda p: gettext("Choose a file to upload."),
    "document.too_large": lambda p: gettext("The file is larger than %(n)s MB.", n=p.get("maximum_mb")),
    "document.type_not_allowed": lambda p: gettext("Only PDF, JPEG and PNG files are accepted."),
    "outage.ends_before_start": lambda p: gettext("The end of the outage is before its start."),
    "outage.no_target": lambda p: gettext("Choose a region or service points for the outage."),
    "outage.unplanned_in_future": lambda p: gettext(
        "An unplanned outage has already begun: its start cannot be in the future. Register a future one as planned."),
    "outage.point_other_utility": lambda p: gettext("A contract named is of another service than the outage's."),
    "outage.contract_elsewhere": lambda p: gettext("A contract named is outside the request's region."),
}


def register() -> None:
    register_messages(MESSAGES)


register()
