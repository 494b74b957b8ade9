pub fn signal_frames() {}
