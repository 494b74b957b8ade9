pub fn fuzz_segments(_d: &[u8]) {}
