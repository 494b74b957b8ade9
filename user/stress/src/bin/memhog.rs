//! Touches anonymous memory until it is killed: the kernel must kill this process (and
//! log it), not itself. Prints progress every 16 MiB.
fn main() {
    let mut blocks: Vec<Vec<u8>> = Vec::new();
    loop {
        let mut block = vec![0u8; 1 << 20];
        for i in (0..block.len()).step_by(4096) {
            block[i] = 1;
        }
        blocks.push(block);
        if blocks.len().is_multiple_of(16) {
            println!("memhog: {} MiB touched", blocks.len());
        }
    }
}
