//! `dmp create --group`: a group, by name or number, as a gid (through
//! the system's group database, so NSS groups such as LDAP's work too).

use std::ffi::CString;

/// The gid of group `name` (a name, or a number that is taken as a gid),
/// or an error naming the group.
pub fn gid_of(name: &str) -> Result<u32, String> {
    if let Ok(gid) = name.parse::<u32>() {
        return Ok(gid);
    }
    let c_name = CString::new(name).map_err(|_| format!("--group {name:?}: contains a NUL"))?;
    let mut buf = vec![0u8; 1024];
    loop {
        // SAFETY: group is plain data (integers and pointers): all-zero is
        // a valid value, filled in by getgrnam_r.
        let mut group: libc::group = unsafe { std::mem::zeroed() };
        let mut found: *mut libc::group = std::ptr::null_mut();
        // SAFETY: every pointer is valid for the call: the NUL-terminated
        // name, the out-struct, the buffer with its true length and the
        // result pointer.
        let rc = unsafe {
            libc::getgrnam_r(
                c_name.as_ptr(),
                &mut group,
                buf.as_mut_ptr().cast(),
                buf.len(),
                &mut found,
            )
        };
        if rc == libc::ERANGE && buf.len() < 1 << 20 {
            buf.resize(buf.len() * 4, 0);
            continue;
        }
        if rc != 0 {
            let e = std::io::Error::from_raw_os_error(rc);
            return Err(format!("--group {name}: cannot look the group up: {e}"));
        }
        if found.is_null() {
            return Err(format!("--group {name}: no such group"));
        }
        return Ok(group.gr_gid);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_and_numbers_and_missing() {
        assert_eq!(gid_of("root"), Ok(0));
        assert_eq!(gid_of("4242"), Ok(4242));
        let e = gid_of("no-such-group-dmp").unwrap_err();
        assert!(
            e.contains("no-such-group-dmp") && e.contains("no such group"),
            "{e}"
        );
    }
}
