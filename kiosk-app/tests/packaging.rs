//! The Debian package's description, checked without building a package:
//! `[package.metadata.deb]` in this crate's Cargo.toml, the systemd unit and
//! maintainer scripts in kiosk-app/debian/, the example configuration and
//! the bundled fonts' fonts.conf (`scripts/package.sh` builds the package).

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use kiosk_app::config::Config;

/// This crate's folder: cargo-deb resolves asset sources against it.
fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `[package.metadata.deb]`.
fn deb() -> toml::Table {
    let manifest: toml::Table = read(&crate_dir().join("Cargo.toml")).parse().unwrap();
    manifest["package"]["metadata"]["deb"]
        .as_table()
        .expect("[package.metadata.deb] in kiosk-app/Cargo.toml")
        .clone()
}

/// One `assets` entry: source (as written), destination (absolute), mode.
#[derive(Debug)]
struct Asset {
    source: String,
    dest: String,
    mode: String,
}

impl Asset {
    /// Where `file` (a source file's name) is installed.
    fn installed_as(&self, file: &str) -> String {
        if self.dest.ends_with('/') {
            format!("{}{file}", self.dest)
        } else {
            self.dest.clone()
        }
    }
}

fn assets() -> Vec<Asset> {
    deb()["assets"]
        .as_array()
        .expect("assets")
        .iter()
        .map(|a| {
            let a = a.as_array().expect("an asset is [source, dest, mode]");
            assert_eq!(a.len(), 3, "asset {a:?}: [source, dest, mode]");
            let s = |i: usize| a[i].as_str().expect("asset fields are strings").to_string();
            Asset {
                source: s(0),
                dest: format!("/{}", s(1).trim_start_matches('/')),
                mode: s(2),
            }
        })
        .collect()
}

/// The files a source names: itself, or what its `*` in the file name
/// matches (the only glob form used).
fn expand(source: &str) -> Vec<PathBuf> {
    let path = crate_dir().join(source);
    let name = path.file_name().unwrap().to_str().unwrap().to_string();
    let Some((prefix, suffix)) = name.split_once('*') else {
        return vec![path];
    };
    let dir = path.parent().unwrap();
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let n = p.file_name().unwrap().to_str().unwrap();
            p.is_file() && n.starts_with(prefix) && n.ends_with(suffix)
        })
        .collect();
    found.sort();
    found
}

/// Every installed file: its absolute path in the package, and its source
/// (`None` for cargo's build output under target/).
fn installed_files() -> BTreeMap<String, Option<PathBuf>> {
    let mut files = BTreeMap::new();
    for asset in assets() {
        if asset.source.starts_with("target/") {
            let name = Path::new(&asset.source)
                .file_name()
                .unwrap()
                .to_str()
                .unwrap();
            files.insert(asset.installed_as(name), None);
            continue;
        }
        for path in expand(&asset.source) {
            let name = path.file_name().unwrap().to_str().unwrap().to_string();
            files.insert(asset.installed_as(&name), Some(path));
        }
    }
    files
}

/// A systemd unit file as section -> key -> values (keys may repeat).
type Unit = BTreeMap<String, BTreeMap<String, Vec<String>>>;

fn parse_unit(text: &str) -> Unit {
    let mut unit = Unit::new();
    let mut section = String::new();
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = name.to_string();
            continue;
        }
        let (key, value) = line
            .split_once('=')
            .unwrap_or_else(|| panic!("unit line {line:?}"));
        unit.entry(section.clone())
            .or_default()
            .entry(key.trim().to_string())
            .or_default()
            .push(value.trim().to_string());
    }
    unit
}

fn unit() -> Unit {
    parse_unit(&read(&unit_path()))
}

fn unit_path() -> PathBuf {
    let deb = deb();
    let scripts = deb["maintainer-scripts"]
        .as_str()
        .expect("maintainer-scripts");
    let units = deb["systemd-units"].as_table().expect("systemd-units");
    let dir = units
        .get("unit-scripts")
        .and_then(|d| d.as_str())
        .unwrap_or(scripts);
    let name = units["unit-name"].as_str().expect("unit-name");
    crate_dir().join(dir).join(format!("{name}.service"))
}

/// The values of `key` in `section`, each split on whitespace.
fn words(unit: &Unit, section: &str, key: &str) -> Vec<String> {
    unit.get(section)
        .and_then(|s| s.get(key))
        .map(|values| {
            values
                .iter()
                .flat_map(|v| v.split_whitespace())
                .map(String::from)
                .collect()
        })
        .unwrap_or_default()
}

fn one(unit: &Unit, section: &str, key: &str) -> String {
    let values = unit
        .get(section)
        .and_then(|s| s.get(key))
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        values.len(),
        1,
        "[{section}] {key}: exactly one value, got {values:?}"
    );
    values[0].clone()
}

/// `Environment=NAME=VALUE` lines.
fn environment(unit: &Unit) -> BTreeMap<String, String> {
    unit["Service"]
        .get("Environment")
        .into_iter()
        .flatten()
        .map(|e| {
            let (k, v) = e
                .split_once('=')
                .unwrap_or_else(|| panic!("Environment={e}"));
            (k.to_string(), v.trim_matches('"').to_string())
        })
        .collect()
}

/// The configuration file the package installs (its only conf-file).
fn config_path() -> String {
    let conf = deb()["conf-files"].as_array().expect("conf-files").clone();
    assert_eq!(conf.len(), 1, "one conf-file: {conf:?}");
    format!("/{}", conf[0].as_str().unwrap().trim_start_matches('/'))
}

#[test]
fn every_asset_source_exists_and_targets_are_this_workspaces_binaries() {
    let root = crate_dir().join("..");
    let mut binaries = Vec::new();
    for asset in assets() {
        assert!(
            asset.dest.starts_with("/usr/") || asset.dest.starts_with("/etc/"),
            "{asset:?}"
        );
        assert!(
            ["644", "755"].contains(&asset.mode.as_str()),
            "{asset:?}: mode"
        );
        if let Some(name) = asset.source.strip_prefix("target/release/") {
            assert_eq!(asset.dest, "/usr/bin/", "{asset:?}");
            assert_eq!(asset.mode, "755", "{asset:?}");
            binaries.push(name.to_string());
            continue;
        }
        let found = expand(&asset.source);
        assert!(!found.is_empty(), "{}: matches no file", asset.source);
        for path in found {
            assert!(path.is_file(), "asset {}: no such file", path.display());
        }
    }
    binaries.sort();
    assert_eq!(binaries, ["asean-lane", "kioskctl"]);
    // Each binary is built by the workspace under that name.
    for (manifest, bin) in [("kiosk-app", "asean-lane"), ("provisioning", "kioskctl")] {
        let toml: toml::Table = read(&root.join(manifest).join("Cargo.toml"))
            .parse()
            .unwrap();
        let names: Vec<&str> = toml["bin"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|b| b["name"].as_str())
            .collect();
        assert!(
            names.contains(&bin),
            "{manifest} builds no binary {bin}: {names:?}"
        );
    }
    // The appliance build's features are this crate's.
    let manifest: toml::Table = read(&crate_dir().join("Cargo.toml")).parse().unwrap();
    for feature in deb()
        .get("features")
        .and_then(|f| f.as_array())
        .into_iter()
        .flatten()
    {
        let feature = feature.as_str().unwrap();
        assert!(
            manifest["features"].get(feature).is_some(),
            "feature {feature}"
        );
    }
}

#[test]
fn depends_on_pcscd_and_the_linked_libraries() {
    let depends = deb()["depends"].as_str().expect("depends").to_string();
    let names: Vec<&str> = depends
        .split(',')
        .map(|d| d.split_whitespace().next().unwrap_or(""))
        .collect();
    assert!(names.contains(&"pcscd"), "{depends}");
    assert!(
        names.contains(&"adduser"),
        "postinst runs adduser: {depends}"
    );
    // libpcsclite1 and libfontconfig1 (and libc6) come from dpkg-shlibdeps.
    assert!(
        names.contains(&"$auto")
            || (names.contains(&"libpcsclite1") && names.contains(&"libfontconfig1")),
        "{depends}"
    );
}

#[test]
fn the_unit_runs_the_installed_lane_after_pcscd_as_its_own_user() {
    let unit = unit();
    let files = installed_files();
    let config = config_path();
    assert!(files.contains_key(&config), "{config} is not installed");

    assert!(words(&unit, "Unit", "After").contains(&"pcscd.service".to_string()));
    assert!(words(&unit, "Unit", "Wants").contains(&"pcscd.service".to_string()));

    let exec = one(&unit, "Service", "ExecStart");
    let argv: Vec<&str> = exec.split_whitespace().collect();
    assert_eq!(
        argv,
        ["/usr/bin/asean-lane", "--config", config.as_str()],
        "ExecStart={exec}"
    );
    assert!(files.contains_key(argv[0]), "{} is not installed", argv[0]);
    let pre = one(&unit, "Service", "ExecStartPre");
    assert_eq!(pre, format!("{exec} --check-config"), "ExecStartPre");
    assert_eq!(one(&unit, "Service", "Restart"), "on-failure");
    // 2 is asean-lane's exit code for an invalid configuration.
    assert_eq!(one(&unit, "Service", "RestartPreventExitStatus"), "2");

    assert_eq!(one(&unit, "Service", "User"), "asean-lane");
    assert!(words(&unit, "Service", "SupplementaryGroups").contains(&"dialout".to_string()));
    assert_eq!(one(&unit, "Service", "StateDirectory"), "asean-lane");
    assert!(words(&unit, "Service", "ReadWritePaths").contains(&"/var/lib/asean-lane".to_string()));
    for (key, value) in [
        ("NoNewPrivileges", "yes"),
        ("ProtectSystem", "strict"),
        ("ProtectHome", "yes"),
        ("PrivateTmp", "yes"),
        ("StandardError", "journal"),
    ] {
        assert_eq!(one(&unit, "Service", key), value, "[Service] {key}");
    }
    assert_eq!(one(&unit, "Install", "WantedBy"), "multi-user.target");
}

#[test]
fn the_maintainer_scripts_create_the_user_and_keep_cargo_debs_fragments() {
    let deb = deb();
    let dir = crate_dir().join(deb["maintainer-scripts"].as_str().unwrap());
    for name in ["postinst", "prerm", "postrm"] {
        let path = dir.join(name);
        let text = read(&path);
        assert!(text.starts_with("#!/bin/sh\n"), "{name}: #!/bin/sh");
        assert!(text.contains("set -e"), "{name}: set -e");
        assert!(
            text.lines().any(|l| l.trim() == "#DEBHELPER#"),
            "{name}: cargo-deb inserts the systemd fragments at #DEBHELPER#"
        );
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o111, 0o111, "{name}: executable");
    }
    let postinst = read(&dir.join("postinst"));
    let user = one(&unit(), "Service", "User");
    assert!(
        postinst.contains("adduser --system --group"),
        "postinst: a system user"
    );
    assert!(
        postinst.contains(&format!("{user} dialout")),
        "postinst: {user} in dialout"
    );
    assert!(
        postinst.contains("/var/lib/asean-lane"),
        "postinst: the state directory"
    );
    // The state (unsynced records, keys) survives a purge.
    let postrm = read(&dir.join("postrm"));
    assert!(
        !postrm.contains("rm -rf /var/lib"),
        "postrm must not delete the store"
    );
}

#[test]
fn the_fonts_conf_shipped_points_at_the_installed_fonts() {
    let unit = unit();
    let env = environment(&unit);
    let fonts_conf = env
        .get("FONTCONFIG_FILE")
        .expect("Environment=FONTCONFIG_FILE=");
    let files = installed_files();
    let source = files
        .get(fonts_conf)
        .unwrap_or_else(|| panic!("{fonts_conf} is not installed"))
        .clone()
        .expect("fonts.conf comes from the source tree");
    let installed_dir = Path::new(fonts_conf).parent().unwrap();
    // The fonts are installed next to it.
    let fonts: Vec<&String> = files
        .keys()
        .filter(|f| f.ends_with(".ttf") || f.ends_with(".otf"))
        .collect();
    assert!(fonts.len() >= 14, "the bundled fonts: {fonts:?}");
    for font in &fonts {
        assert_eq!(
            Path::new(font.as_str()).parent().unwrap(),
            installed_dir,
            "{font}"
        );
    }
    // Every font in ui/fonts is shipped.
    for entry in std::fs::read_dir(source.parent().unwrap()).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if name.ends_with(".ttf") || name.ends_with(".otf") {
            let installed = installed_dir.join(&name);
            assert!(
                files.contains_key(installed.to_str().unwrap()),
                "{name} is not shipped"
            );
        }
    }
    // Its font directories resolve to the installed folder: relative to the
    // file itself, or that absolute path.
    let text = read(&source);
    let dirs: Vec<&str> = text
        .match_indices("<dir")
        .map(|(i, _)| &text[i..])
        .collect();
    assert!(!dirs.is_empty(), "fonts.conf names no <dir>");
    for dir in dirs {
        let open_end = dir.find('>').unwrap();
        let tag = &dir[..open_end];
        let value = dir[open_end + 1..dir.find("</dir>").unwrap()].trim();
        let resolved = if tag.contains("prefix=\"relative\"") {
            installed_dir.join(value)
        } else {
            PathBuf::from(value)
        };
        let resolved = resolved
            .to_str()
            .unwrap()
            .trim_end_matches("/.")
            .to_string();
        assert_eq!(
            Path::new(&resolved),
            installed_dir,
            "fonts.conf {tag}>{value}"
        );
    }
    // Its cache goes where the unit lets it write.
    if text.contains("<cachedir prefix=\"xdg\"") {
        assert_eq!(
            env.get("XDG_CACHE_HOME").map(String::as_str),
            Some("/var/cache/asean-lane")
        );
        assert_eq!(one(&unit, "Service", "CacheDirectory"), "asean-lane");
    }
}

/// The `toml` example in src/config.rs's module documentation.
fn documented_example() -> String {
    let source = read(&crate_dir().join("src/config.rs"));
    let mut lines = source
        .lines()
        .skip_while(|l| l.trim() != "//! ```toml")
        .skip(1)
        .take_while(|l| l.trim() != "//! ```")
        .map(|l| {
            l.strip_prefix("//!")
                .unwrap()
                .strip_prefix(' ')
                .unwrap_or_default()
                .to_string()
        })
        .collect::<Vec<_>>();
    assert!(lines.len() > 10, "no ```toml example in src/config.rs");
    lines.push(String::new());
    lines.join("\n")
}

#[test]
fn the_example_configuration_is_the_documented_one_and_is_accepted() {
    let config = config_path();
    let asset = assets()
        .into_iter()
        .find(|a| a.dest == config)
        .unwrap_or_else(|| panic!("no asset installs {config}"));
    assert_eq!(asset.mode, "644");
    let text = read(&crate_dir().join(&asset.source));

    // As shipped (optional sections commented out): what the lane loads.
    let shipped = Config::from_toml_str(&text).unwrap_or_else(|e| panic!("{config}: {e}"));
    assert!(
        shipped.sync.is_none() && shipped.supervision.is_none() && shipped.biometrics.is_none()
    );

    // Below its header, and with the commented-out sections enabled, it is
    // the example documented in src/config.rs, word for word.
    let body: Vec<&str> = text
        .lines()
        .skip_while(|l| !l.starts_with("site"))
        .collect();
    let enabled: String = body
        .iter()
        .map(|l| l.strip_prefix("# ").unwrap_or(l))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(
        enabled,
        documented_example(),
        "kiosk-app/debian/lane.toml vs src/config.rs"
    );
    let full = Config::from_toml_str(&enabled).unwrap();
    assert!(full.sync.is_some() && full.supervision.is_some() && full.biometrics.is_some());
    assert_eq!(full.store, shipped.store);
}
