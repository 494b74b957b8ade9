//! `mount` and `umount2` of tmpfs and proc on directories of the scratch directory (on
//! the host, inside the harness's private mount namespace), `/proc/mounts`, and the
//! errnos in Linux's order: the path first (`ENOENT`), then privilege (`EPERM`), then the
//! file system type (`ENODEV`) or the mount point (`EINVAL`, `EBUSY`).

use crate::{as_nobody, c, close, open, outcome, text_of};
use abi_tests::errno::{cvt, Errno};
use abi_tests::Transcript;
use core::ffi::c_int;

fn mount(source: &str, target: &str, fstype: &str) -> Result<c_int, Errno> {
    let (s, d, f) = (c(source), c(target), c(fstype));
    // SAFETY: live C strings; no data.
    cvt(unsafe { libc::mount(s.as_ptr(), d.as_ptr(), f.as_ptr(), 0, core::ptr::null()) })
}

fn umount2(target: &str, flags: c_int) -> Result<c_int, Errno> {
    // SAFETY: a live C string.
    cvt(unsafe { libc::umount2(c(target).as_ptr(), flags) })
}

fn mkdir(path: &str) {
    // SAFETY: a live C string.
    unsafe { libc::mkdir(c(path).as_ptr(), 0o755) };
}

/// Whether `/proc/mounts` has a line for a `fstype` mount on `at`.
fn listed(at: &str, fstype: &str) -> bool {
    text_of("/proc/mounts").is_ok_and(|m| {
        m.lines().any(|l| {
            let f: Vec<&str> = l.split(' ').collect();
            f.get(1) == Some(&at) && f.get(2) == Some(&fstype)
        })
    })
}

fn is_tmpfs(path: &str) -> bool {
    // SAFETY: statfs is plain data.
    let mut st: libc::statfs = unsafe { core::mem::zeroed() };
    // SAFETY: a live C string and a writable statfs.
    let r = unsafe { libc::statfs(c(path).as_ptr(), &mut st) };
    r == 0 && st.f_type == libc::TMPFS_MAGIC
}

pub fn mount_umount(t: &Transcript) {
    let cwd = std::env::current_dir().unwrap_or_default();
    let abs = |p: &str| format!("{}/{p}", cwd.display());
    mkdir("mnt");
    // The scratch directory is a tmpfs already: the new one is told apart by a file.
    let _ = open("mnt/under", libc::O_CREAT | libc::O_WRONLY, 0o644).map(close);
    t.ok("mount_tmpfs", mount("tmpfs", "mnt", "tmpfs"));
    t.is(
        "mount_hides_the_directory",
        open("mnt/under", libc::O_RDONLY, 0).is_err(),
    );
    t.is("mounted_is_tmpfs", is_tmpfs("mnt"));
    t.is("proc_mounts_lists_tmpfs", listed(&abs("mnt"), "tmpfs"));
    let file = open("mnt/file", libc::O_CREAT | libc::O_RDWR, 0o644);
    t.ok("create_in_mounted", file);
    t.errno(
        "umount_with_open_file_ebusy",
        umount2("mnt", 0),
        libc::EBUSY,
    );
    if let Ok(fd) = file {
        close(fd);
    }
    mkdir("mnt/sub");
    t.ok("mount_nested", mount("tmpfs", "mnt/sub", "tmpfs"));
    t.errno(
        "umount_with_mount_below_ebusy",
        umount2("mnt", 0),
        libc::EBUSY,
    );
    t.ok("umount_nested", umount2("mnt/sub", 0));
    t.errno(
        "umount_not_a_mount_point_einval",
        umount2("mnt/sub", 0),
        libc::EINVAL,
    );
    t.ok("umount_tmpfs", umount2("mnt", 0));
    t.is(
        "umount_uncovers_the_directory",
        open("mnt/under", libc::O_RDONLY, 0).map(close).is_ok(),
    );
    t.is("proc_mounts_forgets_tmpfs", !listed(&abs("mnt"), "tmpfs"));
    t.ok("mount_stacked_first", mount("tmpfs", "mnt", "tmpfs"));
    t.ok("mount_stacked_second", mount("tmpfs", "mnt", "tmpfs"));
    t.ok("umount_stacked_top", umount2("mnt", 0));
    t.is(
        "stacked_lower_still_mounted",
        is_tmpfs("mnt") && listed(&abs("mnt"), "tmpfs"),
    );
    let fd = open("mnt/held", libc::O_CREAT | libc::O_RDWR, 0o644);
    t.ok(
        "umount_detach_with_open_file",
        umount2("mnt", libc::MNT_DETACH),
    );
    if let Ok(fd) = fd {
        t.shows("detached_file_still_writable", crate::write(fd, b"x"), 1);
        close(fd);
    }
    mkdir("proc");
    t.ok("mount_proc", mount("proc", "proc", "proc"));
    // SAFETY: getpid cannot fail.
    let pid = unsafe { libc::getpid() };
    let link = std::fs::read_link("proc/self").map(|p| p.display().to_string());
    t.is(
        "mounted_proc_self_is_pid",
        link.is_ok_and(|l| l == pid.to_string()),
    );
    t.is("proc_mounts_lists_proc", listed(&abs("proc"), "proc"));
    t.ok("umount_proc", umount2("proc", 0));
}

pub fn errors(t: &Transcript) {
    t.errno(
        "mount_missing_target_enoent",
        mount("tmpfs", "missing", "tmpfs"),
        libc::ENOENT,
    );
    t.errno(
        "mount_unknown_type_enodev",
        mount("x", "mnt", "nosuchfs"),
        libc::ENODEV,
    );
    t.errno(
        "mount_missing_target_before_type",
        mount("x", "missing", "nosuchfs"),
        libc::ENOENT,
    );
    let _ = open("file", libc::O_CREAT | libc::O_WRONLY, 0o644).map(close);
    t.errno(
        "mount_on_file_enotdir",
        mount("tmpfs", "file", "tmpfs"),
        libc::ENOTDIR,
    );
    t.errno("umount_missing_enoent", umount2("missing", 0), libc::ENOENT);
    t.errno(
        "umount_unknown_flag_einval",
        umount2("mnt", 0x100),
        libc::EINVAL,
    );
    t.errno(
        "umount_expire_with_detach_einval",
        umount2("mnt", libc::MNT_EXPIRE | libc::MNT_DETACH),
        libc::EINVAL,
    );
    let eperm = Errno(libc::EPERM);
    t.shows(
        "mount_unprivileged_eperm",
        as_nobody(|| outcome(mount("tmpfs", "mnt", "tmpfs"))),
        eperm,
    );
    let _ = mount("tmpfs", "mnt", "tmpfs");
    t.shows(
        "umount_unprivileged_eperm",
        as_nobody(|| outcome(umount2("mnt", 0))),
        eperm,
    );
    let _ = umount2("mnt", 0);
    let enoent = Errno(libc::ENOENT);
    let path_first = as_nobody(|| outcome(mount("tmpfs", "missing", "tmpfs")));
    t.shows("mount_unprivileged_missing_enoent", path_first, enoent);
    let path_first = as_nobody(|| outcome(umount2("missing", 0)));
    t.shows("umount_unprivileged_missing_enoent", path_first, enoent);
    let type_last = as_nobody(|| outcome(mount("x", "mnt", "nosuchfs")));
    t.shows("mount_unprivileged_unknown_type_eperm", type_last, eperm);
}
