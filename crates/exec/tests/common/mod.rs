//! Reading an initial stack back, the way a C library's start-up code walks it: `argc` at
//! `RSP`, the `argv` and `envp` pointer arrays, then the auxiliary vector up to `AT_NULL`.
//! Used on Halyard's images and on the ones Linux builds, so both are read by the same code.

use linux_raw_sys::auxvec::AT_NULL;

/// Memory from `base` on.
pub struct Mem<'a> {
    pub base: u64,
    pub bytes: &'a [u8],
}

impl Mem<'_> {
    /// The bytes at `addr..addr + len`.
    pub fn slice(&self, addr: u64, len: usize) -> &[u8] {
        let at = usize::try_from(addr - self.base).unwrap();
        &self.bytes[at..at + len]
    }

    pub fn word(&self, addr: u64) -> u64 {
        u64::from_le_bytes(self.slice(addr, 8).try_into().unwrap())
    }

    /// The zero-terminated string at `addr`, without its zero byte.
    pub fn c_str(&self, addr: u64) -> Vec<u8> {
        let at = usize::try_from(addr - self.base).unwrap();
        let len = self.bytes[at..]
            .iter()
            .position(|&c| c == 0)
            .expect("unterminated string");
        self.bytes[at..at + len].to_vec()
    }
}

/// What a program finds on its first stack.
#[derive(Debug, PartialEq, Eq)]
pub struct ParsedStack {
    pub argv: Vec<Vec<u8>>,
    pub envp: Vec<Vec<u8>>,
    /// Where each `argv` and `envp` string is.
    pub argv_addrs: Vec<u64>,
    pub envp_addrs: Vec<u64>,
    /// (type, value) pairs before `AT_NULL`.
    pub auxv: Vec<(u64, u64)>,
}

impl ParsedStack {
    /// The value of auxiliary vector entry `kind`.
    pub fn aux(&self, kind: u32) -> Option<u64> {
        self.auxv
            .iter()
            .find(|&&(k, _)| k == u64::from(kind))
            .map(|&(_, v)| v)
    }
}

/// Walks the stack whose `RSP` is `mem.base`.
pub fn parse_stack(mem: &Mem) -> ParsedStack {
    let mut at = mem.base;
    let mut next = || {
        let w = mem.word(at);
        at += 8;
        w
    };
    let argc = next();
    let argv_addrs: Vec<u64> = (0..argc).map(|_| next()).collect();
    assert_eq!(next(), 0, "argv must end with a null pointer");
    let envp_addrs: Vec<u64> = std::iter::from_fn(|| Some(next()).filter(|&p| p != 0)).collect();
    let mut auxv = Vec::new();
    loop {
        let (kind, value) = (next(), next());
        if kind == u64::from(AT_NULL) {
            break;
        }
        auxv.push((kind, value));
    }
    ParsedStack {
        argv: argv_addrs.iter().map(|&a| mem.c_str(a)).collect(),
        envp: envp_addrs.iter().map(|&a| mem.c_str(a)).collect(),
        argv_addrs,
        envp_addrs,
        auxv,
    }
}
