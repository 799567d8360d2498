"""The SpiffWorkflow runtime: process versions, instances, work items, service operations, timers."""
