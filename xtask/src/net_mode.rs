//! The guest's network: which QEMU backend its virtio-net NIC is wired to, and what that
//! means for QEMU's arguments and the kernel's command line.
//!
//! Three modes, because they answer different needs:
//! - `user` (default): QEMU's built-in NAT (slirp), no privileges needed. `restrict=on` keeps
//!   the guest from reaching the host or the outside on its own: only the listed forwards
//!   exist, host ends bound to 127.0.0.1 so nothing is exposed beyond this machine. The guest
//!   configures itself by DHCP (slirp's server hands out 10.0.2.15, gateway 10.0.2.2).
//! - `tap` (root): a real Ethernet link to a tap device inside a private network namespace
//!   ([`crate::netns`]), so host tools (ping, raw sockets) can exercise the driver at full
//!   rate without touching the machine's own network. Static addresses on the kernel command
//!   line: no DHCP server is needed on the host side.
//! - `none`: no NIC at all (`-nic none` also suppresses QEMU's default one).
//!
//! Pure data, rendering and the flags' parsing ([`NetFlags`], read by `clap` as part of
//! `cargo xtask run`): the namespace itself is created by the caller.

use crate::netns::TapTopology;
use clap::{Args, FromArgMatches};
use std::ffi::OsString;
use std::fmt;
use std::path::PathBuf;

/// Which backend the NIC uses (the value of `--net`; each variant's doc is its help text).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum NetMode {
    /// QEMU user networking, restrict=on, guest uses DHCP; host forwards on 127.0.0.1:
    /// 2222->22 8080->80 7007->7 7009->9 7019->19
    User,
    /// (root) tap0 in network namespace `halyard` (--netns), host side 192.168.100.1/24,
    /// guest 192.168.100.2/24 (ip=... gw=... on the kernel command line); removed on exit
    Tap,
    /// No NIC
    None,
}

/// A port pair `A:B` (`--fwd HOST:GUEST`, `--guestfwd GUEST:HOST`), both 1..=65535.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PortPair(pub u16, pub u16);

impl PortPair {
    /// Parses `A:B`.
    pub fn parse(text: &str) -> Option<PortPair> {
        let port = |s: &str| {
            s.parse::<u16>()
                .ok()
                .filter(|&p| p != 0 && !s.starts_with('+'))
        };
        let (a, b) = text.split_once(':')?;
        Some(PortPair(port(a)?, port(b)?))
    }

    /// [`PortPair::parse`] as a `clap` value parser.
    fn parse_arg(text: &str) -> Result<PortPair, String> {
        PortPair::parse(text).ok_or_else(|| "expected two ports A:B, each 1 to 65535".to_string())
    }
}

/// The NIC's backend id, shared by `-netdev`, `-device` and the capture filter.
const NETDEV_ID: &str = "n0";
/// The guest NIC's MAC address (QEMU's locally administered prefix 52:54:00).
pub const GUEST_MAC: &str = "52:54:00:12:34:56";
/// Host forwards of `--net user` without `--fwd`: ssh, http, echo, discard, chargen.
pub const DEFAULT_FWDS: [PortPair; 5] = [
    PortPair(2222, 22),
    PortPair(8080, 80),
    PortPair(7007, 7),
    PortPair(7009, 9),
    PortPair(7019, 19),
];
/// The guest-side address of `--guestfwd` rules. Slirp refuses its own gateway (10.0.2.2)
/// and DNS (10.0.2.3) addresses for guest forwards ("Conflicting/invalid host:port" from QEMU
/// 7.2), so the forwarded services get an address of their own in the slirp network.
pub const GUESTFWD_ADDR: &str = "10.0.2.100";
/// Default namespace of `--net tap`.
pub const DEFAULT_NETNS: &str = "halyard";
/// The tap device inside the namespace.
pub const TAP_NAME: &str = "tap0";
/// Host side of the tap link.
pub const TAP_HOST_CIDR: &str = "192.168.100.1/24";
/// The guest's static address on the tap link (`ip=` on its command line).
pub const TAP_GUEST_CIDR: &str = "192.168.100.2/24";

/// Everything about the guest's network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Network {
    pub mode: NetMode,
    /// `user` mode: host port (on 127.0.0.1) → guest port, [`DEFAULT_FWDS`] included.
    pub fwds: Vec<PortPair>,
    /// `user` mode: guest port on [`GUESTFWD_ADDR`] → host port on 127.0.0.1.
    pub guestfwds: Vec<PortPair>,
    /// `tap` mode: the namespace holding the tap.
    pub netns: String,
    /// Capture the NIC's traffic to this pcap file.
    pub pcap: Option<PathBuf>,
    /// `disable-legacy=on`: a modern-only (virtio 1.0) device.
    pub legacy_off: bool,
    /// The kernel's `offload=off`: the NIC without checksum and segmentation offloads.
    pub no_offload: bool,
}

impl Default for Network {
    /// What `cargo xtask run` does without network flags.
    fn default() -> Self {
        Network {
            mode: NetMode::User,
            fwds: DEFAULT_FWDS.to_vec(),
            guestfwds: Vec::new(),
            netns: DEFAULT_NETNS.to_string(),
            pcap: None,
            legacy_off: false,
            no_offload: false,
        }
    }
}

/// A combination of network flags that cannot work.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetConflict(pub String);

impl fmt::Display for NetConflict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Network {
    /// No NIC (what the boot and fault tests use).
    pub fn none() -> Network {
        Network {
            mode: NetMode::None,
            fwds: Vec::new(),
            ..Network::default()
        }
    }

    /// Rejects flags that do not apply to the mode and duplicate ports.
    pub fn validate(&self) -> Result<(), NetConflict> {
        let only = |flag: &str, mode: &str| {
            Err(NetConflict(format!(
                "`{flag}` only applies to `--net {mode}`"
            )))
        };
        if self.mode != NetMode::User && !self.guestfwds.is_empty() {
            return only("--guestfwd", "user");
        }
        if self.mode != NetMode::User && !self.fwds.is_empty() {
            return only("--fwd", "user");
        }
        if self.mode != NetMode::Tap && self.netns != DEFAULT_NETNS {
            return only("--netns", "tap");
        }
        crate::netns::check_netns_name(&self.netns).map_err(NetConflict)?;
        if self.mode == NetMode::None && (self.pcap.is_some() || self.legacy_off || self.no_offload)
        {
            return Err(NetConflict(
                "`--pcap`, `--nic-legacy-off` and `--no-offload` need a NIC (not `--net none`)"
                    .to_string(),
            ));
        }
        let host_ports = self.fwds.iter().map(|f| f.0);
        if let Some(port) = first_duplicate(host_ports) {
            return Err(NetConflict(format!("host port {port} is forwarded twice")));
        }
        if let Some(port) = first_duplicate(self.guestfwds.iter().map(|f| f.0)) {
            return Err(NetConflict(format!("guest port {port} is forwarded twice")));
        }
        Ok(())
    }

    /// QEMU arguments: the backend, the NIC and the capture filter.
    pub fn qemu_args(&self) -> Vec<OsString> {
        let backend = match self.mode {
            NetMode::None => return ["-nic", "none"].map(OsString::from).to_vec(),
            NetMode::User => self.user_backend(),
            NetMode::Tap => {
                let mut tap =
                    format!("tap,id={NETDEV_ID},ifname={TAP_NAME},script=no,downscript=no");
                // QEMU's filter-dump writes frames as the backend carries them: a tap with
                // a virtio-net header prepends 12 bytes to each, and the pcap is garbage.
                if self.pcap.is_some() {
                    tap.push_str(",vnet_hdr=off");
                }
                tap
            }
        };
        let mut nic = format!("virtio-net-pci,netdev={NETDEV_ID},mac={GUEST_MAC},romfile=");
        if self.legacy_off {
            nic.push_str(",disable-legacy=on");
        }
        let mut args: Vec<OsString> = vec!["-netdev".into(), backend.into()];
        args.extend(["-device".into(), nic.into()]);
        if let Some(pcap) = &self.pcap {
            let mut filter = OsString::from(format!("filter-dump,id=f0,netdev={NETDEV_ID},file="));
            filter.push(pcap);
            args.extend(["-object".into(), filter]);
        }
        args
    }

    fn user_backend(&self) -> String {
        let mut backend = format!("user,id={NETDEV_ID},restrict=on");
        for PortPair(host, guest) in &self.fwds {
            backend.push_str(&format!(",hostfwd=tcp:127.0.0.1:{host}-:{guest}"));
        }
        for PortPair(guest, host) in &self.guestfwds {
            backend.push_str(&format!(
                ",guestfwd=tcp:{GUESTFWD_ADDR}:{guest}-tcp:127.0.0.1:{host}"
            ));
        }
        backend
    }

    /// The namespace and tap `tap` mode needs (the caller creates it with
    /// [`crate::netns::Netns::create`]).
    pub fn tap_topology(&self) -> TapTopology {
        TapTopology {
            netns: self.netns.clone(),
            tap: TAP_NAME.to_string(),
            host_cidr: TAP_HOST_CIDR.to_string(),
        }
    }

    /// Kernel command line words: the static address of `tap` mode (the other modes need
    /// none: `user` uses DHCP, `none` has no NIC), and `offload=off` for `--no-offload`.
    pub fn kernel_words(&self) -> Option<String> {
        let gateway = TAP_HOST_CIDR.split('/').next().unwrap_or(TAP_HOST_CIDR);
        let address =
            (self.mode == NetMode::Tap).then(|| format!("ip={TAP_GUEST_CIDR} gw={gateway}"));
        let offload = self.no_offload.then(|| "offload=off".to_string());
        let words: Vec<String> = address.into_iter().chain(offload).collect();
        (!words.is_empty()).then(|| words.join(" "))
    }

    /// What a person needs to know to reach the guest, printed before QEMU starts.
    pub fn describe(&self) -> String {
        match self.mode {
            NetMode::None => "network: none (no NIC)".to_string(),
            NetMode::User => {
                let mut text =
                    "network: user (QEMU slirp, restrict=on, guest uses DHCP)".to_string();
                for PortPair(host, guest) in &self.fwds {
                    text.push_str(&format!("\n    127.0.0.1:{host} -> guest port {guest}"));
                }
                for PortPair(guest, host) in &self.guestfwds {
                    text.push_str(&format!(
                        "\n    guest {GUESTFWD_ADDR}:{guest} -> 127.0.0.1:{host} \
                         (start the host service first)"
                    ));
                }
                text
            }
            NetMode::Tap => {
                let guest = TAP_GUEST_CIDR.split('/').next().unwrap_or(TAP_GUEST_CIDR);
                format!(
                    "network: tap `{TAP_NAME}` in namespace `{ns}` (host {TAP_HOST_CIDR}, \
                     guest {TAP_GUEST_CIDR})\n    reach the guest with: ip netns exec {ns} ping {guest}",
                    ns = self.netns
                )
            }
        }
    }
}

/// The network flags of `cargo xtask run` as typed; [`Network`] is what they mean together
/// (`user` mode's default forwards come first, then every `--fwd`). Whether they fit
/// together is [`Network::validate`]'s to say, called by the command-line parser.
#[derive(Debug, Clone, Args)]
struct NetFlags {
    /// The NIC's backend (the NIC is virtio-net-pci, MAC 52:54:00:12:34:56)
    #[arg(long = "net", value_name = "MODE", value_enum, default_value_t = NetMode::User)]
    mode: NetMode,
    /// (user) One more forward 127.0.0.1:HOST -> guest port GUEST; repeatable
    #[arg(long = "fwd", value_name = "HOST:GUEST", value_parser = PortPair::parse_arg)]
    fwds: Vec<PortPair>,
    /// (user) The guest's connections to 10.0.2.100:GPORT go to 127.0.0.1:HPORT (start that
    /// service first); repeatable
    #[arg(long = "guestfwd", value_name = "GPORT:HPORT", value_parser = PortPair::parse_arg)]
    guestfwds: Vec<PortPair>,
    /// (tap) Name of the network namespace holding the tap
    #[arg(long, value_name = "NAME", default_value = DEFAULT_NETNS)]
    netns: String,
    /// Capture the guest's traffic to FILE (pcap)
    #[arg(long, value_name = "FILE")]
    pcap: Option<PathBuf>,
    /// Modern-only virtio device (disable-legacy=on)
    #[arg(long = "nic-legacy-off")]
    legacy_off: bool,
    /// The NIC without checksum and segmentation offloads (kernel word `offload=off`)
    #[arg(long = "no-offload")]
    no_offload: bool,
}

impl NetFlags {
    fn network(self) -> Network {
        let fwds = match self.mode {
            NetMode::User => DEFAULT_FWDS.iter().copied().chain(self.fwds).collect(),
            NetMode::Tap | NetMode::None => self.fwds,
        };
        Network {
            mode: self.mode,
            fwds,
            guestfwds: self.guestfwds,
            netns: self.netns,
            pcap: self.pcap,
            legacy_off: self.legacy_off,
            no_offload: self.no_offload,
        }
    }
}

/// `Network` is read from the command line through [`NetFlags`].
impl Args for Network {
    fn augment_args(cmd: clap::Command) -> clap::Command {
        NetFlags::augment_args(cmd)
    }

    fn augment_args_for_update(cmd: clap::Command) -> clap::Command {
        NetFlags::augment_args_for_update(cmd)
    }
}

impl FromArgMatches for Network {
    fn from_arg_matches(matches: &clap::ArgMatches) -> Result<Self, clap::Error> {
        NetFlags::from_arg_matches(matches).map(NetFlags::network)
    }

    fn update_from_arg_matches(&mut self, matches: &clap::ArgMatches) -> Result<(), clap::Error> {
        *self = Network::from_arg_matches(matches)?;
        Ok(())
    }
}

fn first_duplicate(ports: impl Iterator<Item = u16>) -> Option<u16> {
    let mut seen = Vec::new();
    for port in ports {
        if seen.contains(&port) {
            return Some(port);
        }
        seen.push(port);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(net: &Network) -> String {
        net.qemu_args()
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn default_is_restricted_user_networking_with_the_documented_forwards() {
        let net = Network::default();
        assert_eq!(net.validate(), Ok(()));
        assert_eq!(
            line(&net),
            "-netdev user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:2222-:22,\
             hostfwd=tcp:127.0.0.1:8080-:80,hostfwd=tcp:127.0.0.1:7007-:7,\
             hostfwd=tcp:127.0.0.1:7009-:9,hostfwd=tcp:127.0.0.1:7019-:19 \
             -device virtio-net-pci,netdev=n0,mac=52:54:00:12:34:56,romfile="
        );
        assert_eq!(net.kernel_words(), None);
        let text = net.describe();
        assert!(text.contains("restrict=on") && text.contains("127.0.0.1:2222 -> guest port 22"));
        assert_eq!(text.lines().count(), 6);
    }

    #[test]
    fn guest_forwards_use_their_own_slirp_address() {
        let net = Network {
            fwds: vec![PortPair(5555, 5)],
            guestfwds: vec![PortPair(80, 8000)],
            ..Network::default()
        };
        assert_eq!(
            line(&net),
            "-netdev user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:5555-:5,\
             guestfwd=tcp:10.0.2.100:80-tcp:127.0.0.1:8000 \
             -device virtio-net-pci,netdev=n0,mac=52:54:00:12:34:56,romfile="
        );
        assert!(net
            .describe()
            .contains("guest 10.0.2.100:80 -> 127.0.0.1:8000"));
    }

    #[test]
    fn tap_mode_uses_the_tap_and_static_addresses() {
        let net = Network {
            mode: NetMode::Tap,
            fwds: Vec::new(),
            netns: "lab".into(),
            legacy_off: true,
            pcap: Some("/tmp/g.pcap".into()),
            ..Network::default()
        };
        assert_eq!(net.validate(), Ok(()));
        assert_eq!(
            line(&net),
            "-netdev tap,id=n0,ifname=tap0,script=no,downscript=no,vnet_hdr=off \
             -device virtio-net-pci,netdev=n0,mac=52:54:00:12:34:56,romfile=,disable-legacy=on \
             -object filter-dump,id=f0,netdev=n0,file=/tmp/g.pcap"
        );
        assert_eq!(
            net.kernel_words().as_deref(),
            Some("ip=192.168.100.2/24 gw=192.168.100.1")
        );
        let plain = Network {
            no_offload: true,
            ..net.clone()
        };
        assert_eq!(
            plain.kernel_words().as_deref(),
            Some("ip=192.168.100.2/24 gw=192.168.100.1 offload=off")
        );
        let user = Network {
            no_offload: true,
            ..Network::default()
        };
        assert_eq!(user.kernel_words().as_deref(), Some("offload=off"));
        assert!(net
            .describe()
            .contains("ip netns exec lab ping 192.168.100.2"));
        let topology = net.tap_topology();
        assert_eq!(topology.validate(), Ok(()));
        assert_eq!(
            (
                topology.netns.as_str(),
                topology.tap.as_str(),
                topology.host_cidr.as_str()
            ),
            ("lab", "tap0", "192.168.100.1/24")
        );
    }

    #[test]
    fn none_means_no_nic_at_all() {
        let net = Network::none();
        assert_eq!(net.validate(), Ok(()));
        assert_eq!(line(&net), "-nic none");
        assert_eq!(net.kernel_words(), None);
    }

    #[test]
    fn flags_that_do_not_fit_the_mode_are_rejected() {
        let tap = Network {
            mode: NetMode::Tap,
            fwds: Vec::new(),
            ..Network::default()
        };
        let cases = [
            Network {
                guestfwds: vec![PortPair(1, 2)],
                ..tap.clone()
            },
            Network {
                fwds: DEFAULT_FWDS.to_vec(),
                ..tap.clone()
            },
            Network {
                netns: "a/b".into(),
                ..tap.clone()
            },
            Network {
                netns: "x".into(),
                ..Network::default()
            },
            Network {
                pcap: Some("a".into()),
                ..Network::none()
            },
            Network {
                legacy_off: true,
                ..Network::none()
            },
            Network {
                no_offload: true,
                ..Network::none()
            },
            Network {
                fwds: vec![PortPair(9, 1), PortPair(9, 2)],
                ..Network::default()
            },
            Network {
                guestfwds: vec![PortPair(9, 1), PortPair(9, 2)],
                ..Network::default()
            },
        ];
        for net in cases {
            assert!(net.validate().is_err(), "{net:?} accepted");
        }
    }

    #[test]
    fn port_pairs_and_modes_parse() {
        assert_eq!(PortPair::parse("2222:22"), Some(PortPair(2222, 22)));
        for bad in [
            "", "22", "0:22", "22:0", "65536:1", "a:b", "1:2:3", "+1:2", " 1:2",
        ] {
            assert_eq!(PortPair::parse(bad), None, "`{bad}` accepted");
        }
        use clap::ValueEnum;
        assert_eq!(NetMode::from_str("tap", false), Ok(NetMode::Tap));
        assert!(NetMode::from_str("bridge", false).is_err());
    }
}
