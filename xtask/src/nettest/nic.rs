//! Variants of the guest's virtio-net device for the driver tests: the same NIC with other
//! properties (modern-only transport, no MSI-X vectors, one shared vector, no control
//! queue) or behind a PCIe
//! root port (a bridge the PCI scan must cross).
//!
//! The variants only concern the driver tests, so rather than growing the run options they
//! rewrite the finished QEMU command: the properties are appended to the
//! `virtio-net-pci,...` device and extra devices are inserted just before it (a root port
//! must exist before a device names it as its bus).

use std::ffi::OsString;
use std::process::Command;

/// How the NIC is attached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Nic {
    /// Appended to the `virtio-net-pci` device (each starting with `,`).
    pub props: &'static str,
    /// Arguments inserted before the NIC's `-device`.
    pub before: &'static [&'static str],
}

impl Nic {
    /// The NIC as `--net` makes it.
    pub const PLAIN: Nic = Nic::with_props("");
    /// Virtio 1.0 only (no legacy I/O BAR).
    pub const MODERN: Nic = Nic::with_props(",disable-legacy=on");
    /// No MSI-X vectors: the driver must fall back to polling.
    pub const POLLING: Nic = Nic::with_props(",vectors=0");
    /// Two vectors: configuration plus one shared by both queues.
    pub const SHARED_VECTOR: Nic = Nic::with_props(",vectors=2");
    /// No control queue (so no run-time switch of the receive offloads).
    pub const NO_CONTROL_QUEUE: Nic = Nic::with_props(",ctrl_vq=off");
    /// Behind a PCIe root port on bus 1.
    pub const BEHIND_ROOT_PORT: Nic = Nic {
        props: ",bus=rp1",
        before: &["-device", "pcie-root-port,id=rp1,bus=pcie.0,chassis=1"],
    };

    /// The NIC with extra device properties and nothing else.
    const fn with_props(props: &'static str) -> Nic {
        Nic { props, before: &[] }
    }

    /// `cmd` with this variant applied (unchanged for [`Nic::PLAIN`] or without a NIC).
    pub fn apply(&self, cmd: Command) -> Command {
        let mut args: Vec<OsString> = cmd.get_args().map(OsString::from).collect();
        if let Some(at) = args
            .iter()
            .position(|a| a.to_string_lossy().starts_with("virtio-net-pci,"))
        {
            args[at].push(self.props);
            let device_flag = at.saturating_sub(1);
            for (i, extra) in self.before.iter().enumerate() {
                args.insert(device_flag + i, extra.into());
            }
        }
        let mut out = Command::new(cmd.get_program());
        out.args(args);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(cmd: &Command) -> String {
        std::iter::once(cmd.get_program())
            .chain(cmd.get_args())
            .map(|a| a.to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn qemu() -> Command {
        let mut cmd = Command::new("qemu");
        cmd.args([
            "-netdev",
            "user,id=n0",
            "-device",
            "virtio-net-pci,netdev=n0",
            "-serial",
            "stdio",
        ]);
        cmd
    }

    #[test]
    fn variants_rewrite_the_nic_device() {
        assert_eq!(line(&Nic::PLAIN.apply(qemu())), line(&qemu()));
        assert_eq!(
            line(&Nic::POLLING.apply(qemu())),
            "qemu -netdev user,id=n0 -device virtio-net-pci,netdev=n0,vectors=0 -serial stdio"
        );
        assert_eq!(
            line(&Nic::BEHIND_ROOT_PORT.apply(qemu())),
            "qemu -netdev user,id=n0 -device pcie-root-port,id=rp1,bus=pcie.0,chassis=1 \
             -device virtio-net-pci,netdev=n0,bus=rp1 -serial stdio"
        );
        let mut no_nic = Command::new("qemu");
        no_nic.args(["-nic", "none"]);
        assert_eq!(line(&Nic::MODERN.apply(no_nic)), "qemu -nic none");
    }
}
