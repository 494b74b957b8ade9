//! Algorithm names this implementation offers, in preference order, and the limits it applies.

/// Key exchange: curve25519-sha256 (RFC 8731), under both of its names.
pub const KEX: &[&str] = &["curve25519-sha256", "curve25519-sha256@libssh.org"];
/// Strict key exchange markers (OpenSSH's Terrapin mitigation, CVE-2023-48795).
pub const STRICT_KEX_CLIENT: &str = "kex-strict-c-v00@openssh.com";
/// See [`STRICT_KEX_CLIENT`].
pub const STRICT_KEX_SERVER: &str = "kex-strict-s-v00@openssh.com";
/// Host and user key / signature algorithm.
pub const ED25519: &str = "ssh-ed25519";
/// The AEAD cipher, preferred.
pub const CHACHA20_POLY1305: &str = "chacha20-poly1305@openssh.com";
/// The fallback cipher, used with [`HMAC_SHA256`].
pub const AES256_CTR: &str = "aes256-ctr";
/// MAC for [`AES256_CTR`] (ignored by the AEAD cipher).
pub const HMAC_SHA256: &str = "hmac-sha2-256";
/// Ciphers in preference order.
pub const CIPHERS: &[&str] = &[CHACHA20_POLY1305, AES256_CTR];

/// Largest `packet_length` accepted from a peer. RFC 4253 §6.1 requires 35000; OpenSSH sends
/// at most about 32 KiB of channel data per packet.
pub const MAX_PACKET_LEN: usize = 64 * 1024;
/// Channel receive window advertised, and the largest channel data packet accepted.
pub const CHANNEL_WINDOW: u32 = 1024 * 1024;
/// See [`CHANNEL_WINDOW`].
pub const CHANNEL_MAX_PACKET: u32 = 32 * 1024;
/// Channels one connection may hold open at once.
pub const MAX_CHANNELS: usize = 8;
/// Authentication attempts before the server gives up on a client.
pub const MAX_AUTH_ATTEMPTS: u32 = 10;
