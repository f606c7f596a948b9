//! Who is on the other end: the client address that per-client rate limits count by (the
//! portal's sends, sign-in throttling). Behind a reverse proxy every connection comes from the
//! proxy, so the address the proxy saw is taken from `X-Forwarded-For` — but only when the
//! connection comes from a proxy the operator trusts (`mamori serve --trusted-proxy CIDR_OR_IP`,
//! `MAMORI_TRUSTED_PROXIES`); anyone else could write any address there and get a fresh
//! allowance with every request. Addresses are never logged (seed 000 Art. 8: the address is
//! personal data of the visitor).

use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::request::Parts;

use crate::AppState;

/// One trusted proxy: an address or a network in CIDR form (`10.0.0.0/8`, `::1`, `fd00::/8`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProxyNet {
    addr: IpAddr,
    prefix: u8,
}

impl ProxyNet {
    /// Whether `ip` is in this network (an IPv4 address mapped into IPv6 counts as IPv4).
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, canonical(ip)) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

impl FromStr for ProxyNet {
    type Err = String;

    /// `192.0.2.1`, `10.0.0.0/8`, `::1`, `fd00::/8`; a one-line reason otherwise.
    fn from_str(s: &str) -> Result<ProxyNet, String> {
        let hint =
            "use an IP address (10.0.0.1, ::1) or a network in CIDR form (10.0.0.0/8, fd00::/8)";
        let s = s.trim();
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr = canonical(
            addr.parse::<IpAddr>()
                .map_err(|_| format!("trusted proxy: not an IP address: {hint}"))?,
        );
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => p.parse::<u8>().ok().filter(|p| *p <= max).ok_or_else(|| {
                format!("trusted proxy: the prefix length must be 0 to {max}: {hint}")
            })?,
        };
        Ok(ProxyNet { addr, prefix })
    }
}

/// The proxies whose `X-Forwarded-For` is believed. Empty (the default): none, and the
/// connection's own address is the client.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<ProxyNet>);

impl TrustedProxies {
    pub fn new(nets: Vec<ProxyNet>) -> TrustedProxies {
        TrustedProxies(nets)
    }

    /// Parse a list separated by commas or whitespace (`MAMORI_TRUSTED_PROXIES`).
    pub fn parse_list(s: &str) -> Result<TrustedProxies, String> {
        s.split([',', ' ', '\t', '\n'])
            .filter(|x| !x.trim().is_empty())
            .map(ProxyNet::from_str)
            .collect::<Result<Vec<_>, _>>()
            .map(TrustedProxies)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn trusts(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|n| n.contains(ip))
    }
}

/// The client's address. `peer` is the address of the connection. When it is a trusted proxy,
/// the `X-Forwarded-For` chain is read from the right (the hop nearest to us) and the first
/// address that is not a trusted proxy is the client; a chain of trusted proxies only gives its
/// leftmost address. An entry that is not an address ends the walk at the last trusted hop, so
/// a malformed header never makes up a client. `None` only when the connection's address is
/// unknown (a test router without a socket).
pub fn client_addr(
    peer: Option<IpAddr>,
    headers: &HeaderMap,
    trusted: &TrustedProxies,
) -> Option<IpAddr> {
    let peer = canonical(peer?);
    if !trusted.trusts(peer) {
        return Some(peer);
    }
    let hops: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .collect();
    let mut client = peer;
    for hop in hops.iter().rev() {
        match parse_hop(hop) {
            Some(ip) => {
                client = ip;
                if !trusted.trusts(ip) {
                    break;
                }
            }
            None => break,
        }
    }
    Some(client)
}

/// Whether the request came over TLS: the connection is plain HTTP, so only a trusted proxy's
/// `X-Forwarded-Proto: https` says so.
pub fn forwarded_tls(peer: Option<IpAddr>, headers: &HeaderMap, trusted: &TrustedProxies) -> bool {
    peer.is_some_and(|p| trusted.trusts(canonical(p)))
        && headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("https"))
}

/// An `X-Forwarded-For` entry: `192.0.2.1`, `2001:db8::1`, `[2001:db8::1]:443`, `192.0.2.1:80`.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    if let Ok(ip) = hop.parse::<IpAddr>() {
        return Some(canonical(ip));
    }
    hop.parse::<SocketAddr>().ok().map(|s| canonical(s.ip()))
}

fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

/// The connection's own address, as the server recorded it.
pub fn peer_of(parts: &Parts) -> Option<IpAddr> {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
}

/// The client's address as an extractor: `ClientAddr(ip)`, `"unknown"` when the connection's
/// address is not known.
pub struct ClientAddr(pub String);

impl FromRequestParts<AppState> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, s: &AppState) -> Result<Self, Self::Rejection> {
        Ok(ClientAddr(
            client_addr(peer_of(parts), &parts.headers, &s.trusted_proxies)
                .map_or_else(|| "unknown".to_string(), |ip| ip.to_string()),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn xff(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append("x-forwarded-for", HeaderValue::from_str(v).unwrap());
        }
        h
    }

    fn proxies(s: &str) -> TrustedProxies {
        TrustedProxies::parse_list(s).unwrap()
    }

    #[test]
    fn without_trusted_proxies_the_header_is_ignored() {
        let h = xff(&["203.0.113.9"]);
        assert_eq!(
            client_addr(Some(ip("198.51.100.7")), &h, &TrustedProxies::default()),
            Some(ip("198.51.100.7"))
        );
    }

    #[test]
    fn a_visitor_who_is_not_a_trusted_proxy_cannot_choose_their_address() {
        let h = xff(&["203.0.113.9"]);
        assert_eq!(
            client_addr(Some(ip("198.51.100.7")), &h, &proxies("10.0.0.0/8")),
            Some(ip("198.51.100.7"))
        );
    }

    #[test]
    fn behind_a_trusted_proxy_the_address_it_saw_is_the_client() {
        let t = proxies("10.0.0.0/8, ::1");
        assert_eq!(
            client_addr(Some(ip("10.1.2.3")), &xff(&["203.0.113.9"]), &t),
            Some(ip("203.0.113.9"))
        );
        assert_eq!(
            client_addr(Some(ip("::1")), &xff(&["203.0.113.9"]), &t),
            Some(ip("203.0.113.9"))
        );
        // A forged entry to the left of the real one is not believed: the walk stops at the
        // first address the trusted proxy did not vouch for.
        assert_eq!(
            client_addr(
                Some(ip("10.1.2.3")),
                &xff(&["1.2.3.4, 203.0.113.9", "10.9.9.9"]),
                &t
            ),
            Some(ip("203.0.113.9"))
        );
        // Without the header, the proxy itself.
        assert_eq!(
            client_addr(Some(ip("10.1.2.3")), &HeaderMap::new(), &t),
            Some(ip("10.1.2.3"))
        );
        // Junk ends the walk at the last trusted hop.
        assert_eq!(
            client_addr(Some(ip("10.1.2.3")), &xff(&["203.0.113.9, junk"]), &t),
            Some(ip("10.1.2.3"))
        );
        assert_eq!(
            client_addr(Some(ip("10.1.2.3")), &xff(&["[2001:db8::1]:443"]), &t),
            Some(ip("2001:db8::1"))
        );
        assert_eq!(
            client_addr(Some(ip("::ffff:10.1.2.3")), &xff(&["203.0.113.9"]), &t),
            Some(ip("203.0.113.9"))
        );
        assert_eq!(client_addr(None, &xff(&["203.0.113.9"]), &t), None);
    }

    #[test]
    fn networks_match_by_prefix() {
        let n: ProxyNet = "192.168.0.0/16".parse().unwrap();
        assert!(n.contains(ip("192.168.255.1")) && !n.contains(ip("192.169.0.1")));
        let all: ProxyNet = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains(ip("8.8.8.8")) && !all.contains(ip("::2")));
        let v6: ProxyNet = "fd00::/8".parse().unwrap();
        assert!(v6.contains(ip("fd12::1")) && !v6.contains(ip("fe80::1")));
        let one: ProxyNet = "127.0.0.1".parse().unwrap();
        assert!(one.contains(ip("127.0.0.1")) && !one.contains(ip("127.0.0.2")));
    }

    #[test]
    fn a_bad_proxy_is_refused_in_one_line_naming_the_setting() {
        for bad in ["10.0.0.0/33", "localhost", "10.0.0.0/x", "::/129"] {
            let e = TrustedProxies::parse_list(bad).unwrap_err();
            assert!(e.starts_with("trusted proxy: ") && !e.contains('\n'), "{e}");
        }
    }

    #[test]
    fn only_a_trusted_proxy_says_the_request_came_over_tls() {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-proto", HeaderValue::from_static("https"));
        let t = proxies("10.0.0.1");
        assert!(forwarded_tls(Some(ip("10.0.0.1")), &h, &t));
        assert!(!forwarded_tls(Some(ip("10.0.0.2")), &h, &t));
        assert!(!forwarded_tls(Some(ip("10.0.0.1")), &HeaderMap::new(), &t));
    }
}
