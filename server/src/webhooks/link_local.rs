//! Webhooks never reach link-local addresses unless the server allows it: that is
//! where clouds serve instance metadata and its credentials (169.254.169.254, and AWS's
//! `fd00:ec2::254`), so a pipeline's `notify` could otherwise make the server fetch
//! them. A literal address is refused at save and deploy; a name is checked each time
//! it is resolved for a delivery, so a name that points there later is refused too.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};

use app::domain::{Pipeline, ValidationError, ValidationErrors};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// AWS's instance metadata service over IPv6 (outside `fe80::/10`).
const AWS_METADATA_V6: Ipv6Addr = Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254);

/// Whether webhooks may not reach `ip`: `169.254.0.0/16`, `fe80::/10` and AWS's IPv6
/// metadata address (also as an IPv4-mapped address).
pub fn is_link_local(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_link_local(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.is_link_local(),
            None => v6.is_unicast_link_local() || v6 == AWS_METADATA_V6,
        },
    }
}

/// The link-local address `url` names literally, if any (`http://169.254.169.254/`,
/// `http://0xA9FEA9FE/` and `http://[fd00:ec2::254]/` alike, as URLs are parsed).
pub fn literal_link_local(url: &str) -> Option<IpAddr> {
    let parsed = reqwest::Url::parse(url).ok()?;
    let ip = match parsed.host()? {
        url::Host::Ipv4(v4) => IpAddr::V4(v4),
        url::Host::Ipv6(v6) => IpAddr::V6(v6),
        url::Host::Domain(_) => return None,
    };
    is_link_local(ip).then_some(ip)
}

/// Refuses a pipeline whose `notify` names a link-local address (422, field `notify`).
pub fn check(pipeline: &Pipeline) -> Result<(), ValidationErrors> {
    let errors: Vec<ValidationError> = pipeline
        .notify
        .iter()
        .filter_map(|url| {
            literal_link_local(url).map(|address| ValidationError::LinkLocalNotifyUrl {
                url: url.clone(),
                address: address.to_string(),
            })
        })
        .collect();
    ValidationErrors::result(errors)
}

/// Resolves names for deliveries as the system does, without the link-local
/// addresses; a name with nothing else is an error that says why.
#[derive(Clone, Copy, Debug)]
pub struct NoLinkLocal;

impl Resolve for NoLinkLocal {
    fn resolve(&self, name: Name) -> Resolving {
        Box::pin(async move {
            let host = name.as_str().to_string();
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let (refused, allowed): (Vec<SocketAddr>, Vec<SocketAddr>) =
                found.into_iter().partition(|a| is_link_local(a.ip()));
            if allowed.is_empty()
                && let Some(address) = refused.first()
            {
                let error = std::io::Error::other(format!(
                    "`{host}` resolves to {}, a link-local address where clouds serve instance \
                     metadata: refused (start the server with --notify-allow-link-local to allow)",
                    address.ip()
                ));
                return Err(error.into());
            }
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use super::*;

    #[test]
    fn metadata_addresses_are_link_local_in_any_spelling() {
        for url in [
            "http://169.254.169.254/latest/meta-data/",
            "http://0xA9FEA9FE/",
            "http://169.254.1.1:8080/hook",
            "https://[fd00:ec2::254]/",
            "http://[fe80::1]/",
            "http://[::ffff:169.254.169.254]/",
        ] {
            assert!(literal_link_local(url).is_some(), "{url}");
        }
        for url in [
            "https://hooks.example.com/x",
            "http://10.0.0.1/",
            "http://127.0.0.1:9000/",
            "http://[fd00::1]/",
            "not a url",
        ] {
            assert_eq!(literal_link_local(url), None, "{url}");
        }
    }

    #[tokio::test]
    async fn names_resolve_without_link_local_addresses() {
        let found: Vec<SocketAddr> = NoLinkLocal
            .resolve(Name::from_str("localhost").expect("a name"))
            .await
            .expect("localhost resolves")
            .collect();
        assert!(found.iter().any(|a| a.ip().is_loopback()), "{found:?}");
    }
}
