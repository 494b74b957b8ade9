//! Which kernel modules the Linux peer must load for its virtio-net NIC, and in what order.
//!
//! Debian's cloud kernel builds virtio, virtio-pci and virtio-net as modules (`=m` in its
//! config), and the package ships no `modules.dep` (depmod creates it at install time, and
//! the bench never installs the package). Each `.ko` names its dependencies in its
//! `.modinfo` strings as `depends=a,b`; reading those and ordering the closure of the NIC
//! driver's dependencies so each module follows what it needs is all `modprobe` would do.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The modules the peer needs loaded for virtio-net over PCI (dependencies are added).
pub const NIC_MODULES: &[&str] = &["virtio_pci", "virtio_net"];

/// The `depends=` list in a module file's bytes (empty if it has none).
pub fn depends(ko: &[u8]) -> Vec<String> {
    const KEY: &[u8] = b"\0depends=";
    let Some(at) = ko.windows(KEY.len()).position(|w| w == KEY) else {
        return Vec::new();
    };
    let rest = &ko[at + KEY.len()..];
    let end = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
    String::from_utf8_lossy(&rest[..end])
        .split(',')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// Every `.ko` under `dir`, by module name (file stem).
pub fn find_modules(dir: &Path) -> BTreeMap<String, PathBuf> {
    let mut found = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "ko") {
                if let Some(stem) = path.file_stem() {
                    found.insert(stem.to_string_lossy().into_owned(), path);
                }
            }
        }
    }
    found
}

/// The load order of `roots` and their dependencies: each module after all it depends on.
/// `deps_of` gives a module's dependencies, or `None` if no such module file exists (then it
/// must be built into the kernel, which `builtin` confirms, else it is an error).
pub fn load_order(
    roots: &[&str],
    deps_of: &dyn Fn(&str) -> Option<Vec<String>>,
    builtin: &dyn Fn(&str) -> bool,
) -> Result<Vec<String>, String> {
    let mut order = Vec::new();
    let mut visiting = Vec::new();
    for root in roots {
        visit(root, deps_of, builtin, &mut visiting, &mut order)?;
    }
    Ok(order)
}

fn visit(
    name: &str,
    deps_of: &dyn Fn(&str) -> Option<Vec<String>>,
    builtin: &dyn Fn(&str) -> bool,
    visiting: &mut Vec<String>,
    order: &mut Vec<String>,
) -> Result<(), String> {
    if order.iter().any(|m| m == name) {
        return Ok(());
    }
    if visiting.iter().any(|m| m == name) {
        return Err(format!("module dependency cycle through {name}"));
    }
    let Some(deps) = deps_of(name) else {
        return if builtin(name) {
            Ok(())
        } else {
            Err(format!("module {name} is neither a .ko file nor built in"))
        };
    };
    visiting.push(name.to_string());
    for dep in &deps {
        visit(dep, deps_of, builtin, visiting, order)?;
    }
    visiting.pop();
    order.push(name.to_string());
    Ok(())
}

/// True if the kernel `config` text has `CONFIG_<NAME>=y` for module `name`.
pub fn built_in(config: &str, name: &str) -> bool {
    let key = format!("CONFIG_{}=y", name.to_ascii_uppercase());
    config.lines().any(|l| l.trim() == key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depends_is_read_from_modinfo_strings() {
        let ko = b"\x7fELF...\0license=GPL\0depends=virtio_ring,virtio,net_failover\0retpoline=Y\0";
        assert_eq!(depends(ko), ["virtio_ring", "virtio", "net_failover"]);
        assert!(depends(b"\0depends=\0name=x\0").is_empty());
        assert!(depends(b"no modinfo").is_empty());
    }

    #[test]
    fn dependencies_come_first_and_once() {
        // The real graph of Debian 12's cloud kernel.
        let graph: BTreeMap<&str, &[&str]> = BTreeMap::from([
            ("virtio_net", &["virtio_ring", "virtio", "net_failover"][..]),
            (
                "virtio_pci",
                &[
                    "virtio_ring",
                    "virtio_pci_modern_dev",
                    "virtio_pci_legacy_dev",
                    "virtio",
                ],
            ),
            ("virtio", &["virtio_ring"]),
            ("net_failover", &["failover"]),
            ("failover", &[]),
            ("virtio_ring", &[]),
            ("virtio_pci_modern_dev", &[]),
            ("virtio_pci_legacy_dev", &[]),
        ]);
        let deps = |n: &str| {
            graph
                .get(n)
                .map(|d| d.iter().map(|s| s.to_string()).collect())
        };
        let order = load_order(NIC_MODULES, &deps, &|_| false).unwrap();
        assert_eq!(
            order,
            [
                "virtio_ring",
                "virtio_pci_modern_dev",
                "virtio_pci_legacy_dev",
                "virtio",
                "virtio_pci",
                "failover",
                "net_failover",
                "virtio_net"
            ]
        );
    }

    #[test]
    fn built_in_modules_are_skipped_and_missing_ones_reported() {
        let config = "CONFIG_VIRTIO=y\nCONFIG_VIRTIO_NET=m\n";
        assert!(built_in(config, "virtio") && !built_in(config, "virtio_net"));
        let only_net = |n: &str| (n == "virtio_net").then(|| vec!["virtio".to_string()]);
        let order = load_order(&["virtio_net"], &only_net, &|n| built_in(config, n)).unwrap();
        assert_eq!(order, ["virtio_net"]);
        assert!(load_order(&["virtio_pci"], &only_net, &|_| false)
            .unwrap_err()
            .contains("virtio_pci"));
        let cyclic = |n: &str| Some(vec![if n == "a" { "b" } else { "a" }.to_string()]);
        assert!(load_order(&["a"], &cyclic, &|_| false)
            .unwrap_err()
            .contains("cycle"));
    }

    #[test]
    fn module_files_are_found_recursively() {
        let dir = std::env::temp_dir().join(format!("xtask-mods-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("kernel/drivers/net")).unwrap();
        std::fs::write(dir.join("kernel/drivers/net/virtio_net.ko"), b"x").unwrap();
        std::fs::write(dir.join("kernel/modules.txt"), b"x").unwrap();
        let found = find_modules(&dir);
        assert_eq!(found.keys().collect::<Vec<_>>(), ["virtio_net"]);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
