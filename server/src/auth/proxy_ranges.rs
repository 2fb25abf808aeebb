//! Which addresses may vouch for a user with the proxy header.
//!
//! Jobs run on the server's machine, so a trusted range that covers loopback or one of
//! the machine's own addresses lets any job name itself admin by sending the header to
//! the API. Such ranges are refused unless the operator says, with
//! `--trusted-proxy-allow-local`, that the proxy really runs on this host and jobs run
//! elsewhere or cannot reach the port.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::IpNet;

/// Parses `--trusted-proxy` values (a CIDR range or a single address) and refuses the
/// ones that cover an address of this host, unless `allow_local`.
pub fn trusted_proxies(
    values: &[String],
    bind: IpAddr,
    allow_local: bool,
) -> Result<Vec<IpNet>, String> {
    let own = own_addresses(bind);
    values
        .iter()
        .map(|value| {
            let value = value.trim();
            let net = value
                .parse::<IpNet>()
                .or_else(|_| value.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| {
                    format!(
                        "--trusted-proxy `{value}` is not an address or a CIDR range like 10.0.0.0/8"
                    )
                })?;
            match own.iter().find(|address| net.contains(*address)) {
                Some(address) if !allow_local => Err(format!(
                    "--trusted-proxy `{value}` contains {address}, an address of this host: jobs \
                     run on this host and could send the user header themselves; name the \
                     proxy's own address instead, or add --trusted-proxy-allow-local if jobs \
                     cannot reach the server's port"
                )),
                _ => Ok(net),
            }
        })
        .collect()
}

/// Loopback, the address the server listens on, and (when it listens on all of them)
/// every address of the machine's interfaces.
fn own_addresses(bind: IpAddr) -> Vec<IpAddr> {
    let mut own = vec![
        IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(Ipv6Addr::LOCALHOST),
    ];
    if bind.is_unspecified() {
        own.extend(interface_addresses());
    } else {
        own.push(bind);
    }
    own
}

/// The addresses of this machine's network interfaces (empty if they cannot be read).
fn interface_addresses() -> Vec<IpAddr> {
    let mut list: *mut libc::ifaddrs = std::ptr::null_mut();
    // SAFETY: getifaddrs fills `list` with a linked list it allocates, freed below.
    if unsafe { libc::getifaddrs(&mut list) } != 0 {
        return Vec::new();
    }
    let mut addresses = Vec::new();
    let mut entry = list;
    while !entry.is_null() {
        // SAFETY: `entry` is a node of the list getifaddrs returned, not yet freed; its
        // address, when present, is a sockaddr of the family it names.
        unsafe {
            let address = (*entry).ifa_addr;
            if !address.is_null() {
                match i32::from((*address).sa_family) {
                    libc::AF_INET => {
                        let v4 = &*(address as *const libc::sockaddr_in);
                        addresses
                            .push(IpAddr::V4(Ipv4Addr::from(u32::from_be(v4.sin_addr.s_addr))));
                    }
                    libc::AF_INET6 => {
                        let v6 = &*(address as *const libc::sockaddr_in6);
                        addresses.push(IpAddr::V6(Ipv6Addr::from(v6.sin6_addr.s6_addr)));
                    }
                    _ => {}
                }
            }
            entry = (*entry).ifa_next;
        }
    }
    // SAFETY: `list` came from getifaddrs and is freed once, after its last use.
    unsafe { libc::freeifaddrs(list) };
    addresses
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(values: &[&str], bind: &str, allow_local: bool) -> Result<Vec<IpNet>, String> {
        let values: Vec<String> = values.iter().map(|v| v.to_string()).collect();
        trusted_proxies(&values, bind.parse().expect("an address"), allow_local)
    }

    #[test]
    fn ranges_that_cover_this_host_need_the_operator_to_say_so() {
        assert_eq!(
            parse(&["10.1.2.3", "192.168.0.0/16"], "127.0.0.1", false),
            Ok(vec![
                "10.1.2.3/32".parse().expect("a range"),
                "192.168.0.0/16".parse().expect("a range")
            ])
        );
        for (range, bind) in [
            ("127.0.0.0/8", "127.0.0.1"),
            ("0.0.0.0/0", "127.0.0.1"),
            ("::1", "::1"),
            ("10.0.0.0/8", "10.0.0.7"),
        ] {
            let refused = parse(&[range], bind, false).expect_err(range);
            assert!(refused.contains("an address of this host"), "{refused}");
            assert!(refused.contains("--trusted-proxy-allow-local"), "{refused}");
            assert!(parse(&[range], bind, true).is_ok(), "{range}");
        }
        let refused = parse(&["10.0.0.0/8", "proxy.example"], "127.0.0.1", false)
            .expect_err("not an address");
        assert!(
            refused.contains("`proxy.example` is not an address"),
            "{refused}"
        );
    }

    #[test]
    fn listening_everywhere_counts_every_interface_as_this_host() {
        let own = own_addresses("0.0.0.0".parse().expect("an address"));
        assert!(own.contains(&IpAddr::V4(Ipv4Addr::LOCALHOST)), "{own:?}");
        // The machine's loopback interface is among its interfaces.
        assert!(
            interface_addresses().contains(&IpAddr::V4(Ipv4Addr::LOCALHOST)),
            "{:?}",
            interface_addresses()
        );
    }
}
