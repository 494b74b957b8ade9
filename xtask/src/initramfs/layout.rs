//! What every initramfs holds: busybox and its applet links, `/sbin/init`, a few files in
//! `/etc`, and the directories programs expect.
//!
//! | path | what |
//! | --- | --- |
//! | `/bin/busybox` | Debian's `busybox-static` |
//! | applet links | `/bin/sh`, `/sbin/reboot`, `/usr/bin/awk`, ... → `/bin/busybox` |
//! | `/sbin/init` | `user/init`, built static |
//! | `/etc/passwd`, `/etc/group` | `root` (0) and `user` (1000), shell `/bin/sh` |
//! | `/etc/hostname` | `halyard` |
//! | `/etc/profile` | `PATH` and the prompt `\h:\w\$ ` (`halyard:~# `) for login shells |
//! | `/dev/console` | character device 5:1, for the kernel to open init's fds before devtmpfs |
//! | `/dev`, `/proc` | mount points (init mounts devtmpfs and proc there) |
//! | `/tmp` | 1777 |
//! | `/root`, `/home/user` | 0700, owned by their users |
//!
//! There is no `/etc/rc`: init runs one if present, so `--add script:/etc/rc` adds a boot
//! script. No passwords (`x` in `/etc/passwd`, no `/etc/shadow`): nothing logs in, init
//! starts root's shell on the console.

use super::cpio::Entry;
use super::tree::Tree;

/// The host name in `/etc/hostname` (and in the prompt).
pub const HOSTNAME: &str = "halyard";

/// The prompt a login shell shows in root's home, `PS1='\h:\w\$ '` expanded by busybox's
/// ash (`\w` shows `$HOME` as `~`, `\$` is `#` for root).
pub const ROOT_PROMPT: &str = "halyard:~# ";

/// `/etc/profile`, read by the login shell init starts.
const PROFILE: &str = r"# /etc/profile: read by login shells (init starts /bin/sh -l on the console).
export PATH=/sbin:/usr/sbin:/bin:/usr/bin
export PS1='\h:\w\$ '
";

const PASSWD: &str = "root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000:user:/home/user:/bin/sh\n";
const GROUP: &str = "root:x:0:\nuser:x:1000:\n";

/// The non-root user's id (user and group).
const USER_ID: u32 = 1000;

/// The base tree: busybox's links first, then everything else (which replaces a link at
/// the same path).
pub fn base(busybox: Vec<u8>, applet_links: &[String], init: Vec<u8>) -> Result<Tree, String> {
    let mut tree = Tree::default();
    for link in applet_links {
        tree.insert(Entry::symlink(link.clone(), "/bin/busybox"))?;
    }
    let text = |path: &str, data: &str| Entry::file(path, 0o644, data.as_bytes().to_vec());
    let entries = [
        Entry::file("bin/busybox", 0o755, busybox),
        Entry::file("sbin/init", 0o755, init),
        Entry::dir("dev"),
        Entry::char_dev("dev/console", 5, 1),
        Entry::dir("proc"),
        Entry::dir("tmp").with_mode(0o1777),
        Entry::dir("root").with_mode(0o700),
        Entry::dir("home"),
        Entry::dir("home/user")
            .with_mode(0o700)
            .owned_by(USER_ID, USER_ID),
        text("etc/passwd", PASSWD),
        text("etc/group", GROUP),
        text("etc/hostname", &format!("{HOSTNAME}\n")),
        text("etc/profile", PROFILE),
    ];
    for entry in entries {
        tree.insert(entry)?;
    }
    Ok(tree)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::initramfs::cpio::Kind;

    #[test]
    fn the_base_layout_has_init_busybox_and_etc() {
        let links = ["bin/sh", "sbin/reboot", "usr/bin/awk", "etc/passwd"].map(String::from);
        let t = base(vec![0xbb], &links, vec![0x1]).unwrap();
        assert_eq!(t.get("bin/busybox").unwrap().kind, Kind::File(vec![0xbb]));
        assert_eq!(t.get("sbin/init").unwrap().kind, Kind::File(vec![0x1]));
        assert_eq!(
            t.get("usr/bin/awk").unwrap().kind,
            Kind::Symlink("/bin/busybox".into())
        );
        // A base file wins over an applet link of the same name.
        assert!(matches!(t.get("etc/passwd").unwrap().kind, Kind::File(_)));
        let home = t.get("home/user").unwrap();
        assert_eq!((home.uid, home.gid, home.mode), (1000, 1000, 0o700));
        assert_eq!(t.get("tmp").unwrap().mode, 0o1777);
        let file = |p: &str| match &t.get(p).unwrap().kind {
            Kind::File(d) => String::from_utf8(d.clone()).unwrap(),
            other => panic!("{p}: {other:?}"),
        };
        assert_eq!(file("etc/hostname"), "halyard\n");
        assert!(file("etc/profile").contains(r"PS1='\h:\w\$ '"));
        assert!(file("etc/passwd").starts_with("root:x:0:0:root:/root:/bin/sh\n"));
        assert!(file("etc/group").contains("user:x:1000:"));
        assert!(t.get("etc/rc").is_none());
        assert!(ROOT_PROMPT.starts_with(HOSTNAME));
    }
}
