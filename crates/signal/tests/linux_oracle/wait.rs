pub fn wait_statuses() {}
