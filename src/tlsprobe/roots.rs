//! The CA certificates this machine trusts, read from where OpenSSL and rustls-native-certs
//! read them: `SSL_CERT_FILE` and `SSL_CERT_DIR` when either is set, else the bundle file and
//! certificate directories `openssl-probe` finds (on Debian `/etc/ssl/certs/ca-certificates.crt`
//! and every file of `/etc/ssl/certs`), each file once, duplicates dropped.
//!
//! rustls-native-certs decodes PEM with the constant-time base64 decoder that keys need: on
//! this machine that was 72% of a whole PostgreSQL check's instructions (~440 KB of PEM, every
//! certificate twice, file and directory); the `pem` crate was no faster (it strips the line
//! breaks byte by byte). Public certificates need no constant time, so each block's base64 is
//! decoded by the `base64` crate's fast engine, and a block seen in an earlier file is not
//! decoded again. A block it refuses is read the exact way rustls reads it.

use rustls::pki_types::CertificateDer;
use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// The machine's trusted CA certificates, DER, sorted and without duplicates.
pub(super) fn system() -> Vec<CertificateDer<'static>> {
    let (file, dirs) = locations();
    let mut files = SeenFiles::default();
    let mut blocks = HashSet::new();
    let mut out = Vec::new();
    if let Some(f) = &file
        && let Ok(meta) = std::fs::metadata(f)
    {
        files.first_visit(&meta);
        read_file(f, &meta, &mut blocks, &mut out);
    }
    for dir in &dirs {
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            // Followed, as symlinks are how c_rehash names the certificates.
            let Ok(meta) = std::fs::metadata(&path) else {
                continue;
            };
            if meta.is_file() && files.first_visit(&meta) {
                read_file(&path, &meta, &mut blocks, &mut out);
            }
        }
    }
    out.sort_unstable_by(|a, b| a.as_ref().cmp(b.as_ref()));
    out.dedup();
    out
}

/// `SSL_CERT_FILE` / `SSL_CERT_DIR` (a path list) when either is set, as rustls-native-certs
/// reads them; else what openssl-probe finds on this system.
fn locations() -> (Option<PathBuf>, Vec<PathBuf>) {
    let file = std::env::var_os("SSL_CERT_FILE").map(PathBuf::from);
    let dirs: Vec<PathBuf> = std::env::var_os("SSL_CERT_DIR")
        .map(|d| {
            std::env::split_paths(&d)
                .filter(|p| !p.as_os_str().is_empty())
                .collect()
        })
        .unwrap_or_default();
    if file.is_some() || !dirs.is_empty() {
        return (file, dirs);
    }
    let probed = openssl_probe::probe();
    (probed.cert_file, probed.cert_dir)
}

/// The CERTIFICATE blocks of one file, each not seen before (`blocks`) decoded and added to
/// `out`.
fn read_file(
    path: &Path,
    meta: &std::fs::Metadata,
    blocks: &mut HashSet<Block>,
    out: &mut Vec<CertificateDer<'static>>,
) {
    // Certificate files are small; a bundle of every public CA is ~220 KB. A file past this
    // is not a certificate store.
    const MAX_FILE: u64 = 16 * 1024 * 1024;
    if meta.len() > MAX_FILE {
        return;
    }
    // Not fs::read, which asks for the size again.
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    let read = std::fs::File::open(path).and_then(|f| {
        use std::io::Read as _;
        f.take(MAX_FILE).read_to_end(&mut bytes)
    });
    if read.is_err() {
        return;
    }
    for body in certificate_bodies(&bytes) {
        if !blocks.insert(Block(body.to_vec())) {
            continue;
        }
        match decode(body) {
            Some(der) => out.push(CertificateDer::from(der)),
            None => out.extend(exact(body)),
        }
    }
}

/// A block's base64 text, hashed by its length and last bytes (the signature's, as good as
/// random), compared whole: the bundle and the directory hold the same certificates, and
/// hashing ~440 KB whole cost more than decoding it twice.
#[derive(PartialEq, Eq)]
struct Block(Vec<u8>);

impl std::hash::Hash for Block {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        let tail = self.0.len().saturating_sub(48);
        self.0.len().hash(state);
        self.0[tail..].hash(state);
    }
}

const BEGIN: &[u8] = b"-----BEGIN CERTIFICATE-----";
const END: &[u8] = b"-----END CERTIFICATE-----";

/// The base64 text of each `CERTIFICATE` block in `bytes` (other blocks, such as a trusted
/// certificate's `TRUSTED CERTIFICATE` or a key, are not CA certificates rustls would read).
fn certificate_bodies(bytes: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = bytes;
    std::iter::from_fn(move || {
        let start = find(rest, BEGIN)? + BEGIN.len();
        let after = &rest[start..];
        let end = find(after, END)?;
        let body = &after[..end];
        rest = &after[end + END.len()..];
        Some(body)
    })
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    memchr::memmem::find(hay, needle)
}

/// A block's base64 text, line breaks and blanks dropped, decoded; `None` when it is not
/// plain base64 (headers, stray characters: rustls then decides).
fn decode(body: &[u8]) -> Option<Vec<u8>> {
    use base64::Engine as _;
    let mut text = Vec::with_capacity(body.len());
    let mut start = 0;
    for end in memchr::memchr_iter(b'\n', body).chain([body.len()]) {
        text.extend_from_slice(body[start..end].trim_ascii());
        start = end + 1;
    }
    base64::engine::general_purpose::STANDARD.decode(text).ok()
}

/// One block again as PEM, for rustls.
fn pem_block(body: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(BEGIN.len() + body.len() + END.len() + 2);
    v.extend_from_slice(BEGIN);
    v.extend_from_slice(body);
    v.extend_from_slice(END);
    v.push(b'\n');
    v
}

/// What rustls itself reads from the block (a block the `pem` crate refuses).
fn exact(body: &[u8]) -> Option<CertificateDer<'static>> {
    use rustls::pki_types::pem::PemObject;
    CertificateDer::from_pem_slice(&pem_block(body)).ok()
}

/// Files already read, by device and inode (the directory's hash-named links point at the
/// same files as their `.pem` names and the bundle).
#[derive(Default)]
struct SeenFiles {
    #[cfg(unix)]
    ids: HashSet<(u64, u64)>,
}

impl SeenFiles {
    fn first_visit(&mut self, meta: &std::fs::Metadata) -> bool {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            self.ids.insert((meta.dev(), meta.ino()))
        }
        #[cfg(not(unix))]
        {
            let _ = meta;
            true
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// The same certificates as rustls-native-certs, on this machine's store.
    #[test]
    fn reads_what_rustls_native_certs_reads() {
        let ours = system();
        assert!(
            !ours.is_empty(),
            "this machine trusts no CA: nothing was compared"
        );
        let mut theirs = rustls_native_certs::load_native_certs().certs;
        theirs.sort_unstable_by(|a, b| a.as_ref().cmp(b.as_ref()));
        theirs.dedup();
        assert_eq!(ours.len(), theirs.len());
        assert!(ours == theirs, "the two stores differ");
    }

    #[test]
    fn blocks_are_found_between_their_markers_and_others_ignored() {
        let text = b"junk\n-----BEGIN CERTIFICATE-----\nQUJD\n-----END CERTIFICATE-----\n\
            -----BEGIN PRIVATE KEY-----\nREVG\n-----END PRIVATE KEY-----\n\
            -----BEGIN CERTIFICATE-----\nR0hJ\n-----END CERTIFICATE-----\n\
            -----BEGIN CERTIFICATE-----\nunterminated";
        let bodies: Vec<_> = certificate_bodies(text).collect();
        assert_eq!(bodies, [&b"\nQUJD\n"[..], &b"\nR0hJ\n"[..]]);
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        let dir = std::env::temp_dir().join(format!("byod-roots-{}", std::process::id()));
        std::fs::write(&dir, text).unwrap();
        let meta = std::fs::metadata(&dir).unwrap();
        read_file(&dir, &meta, &mut seen, &mut out);
        std::fs::remove_file(&dir).unwrap();
        assert_eq!(
            out.iter().map(|c| c.as_ref()).collect::<Vec<_>>(),
            [b"ABC", b"GHI"]
        );
    }
}
