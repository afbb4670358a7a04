//! Supervision latency: the time from a lane event (`events.send` on the
//! lane's outlets) to its appearance at a connected officer console, with
//! 20 lanes. Each lane has its own supervision server (real mutual TLS 1.3
//! on 127.0.0.1, its own outlets, synthetic events, no lane needed); one
//! console is connected and subscribed to all 20, through the client library.
//!
//! Two loads: *steady* (one event every 2 ms, round robin over the lanes:
//! 25 events/s per lane, far more than a lane makes) and *burst* (all 20
//! lanes send at the same instant). Prints p50, p90, p99 and max.
//!
//! Run with `cargo bench -p kiosk-app --bench supervision -- [EVENTS_PER_LANE]` (default 200).
//! With `BENCH_REPORT` set, the figures are also appended there (`scripts/bench.sh`).

#[path = "../../scripts/bench_figure.rs"]
mod bench_figure;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kiosk_app::lane::LaneEvent;
use kiosk_app::lane::runtime::{self, Outlets};
use kiosk_app::session::PassageId;
use kiosk_app::store::RecordId;
use kiosk_app::supervision::auth::{MIN_ITERATIONS, OfficerRecord, officers_toml};
use kiosk_app::supervision::protocol::{ServerMessage, WireEvent};
use kiosk_app::supervision::{ClientTls, Limits, SupervisionClient, SupervisionConfig, serve};
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};

const LANES: usize = 20;

/// Sent times by (lane, passage), and the measured latencies.
#[derive(Default)]
struct Clock {
    sent: HashMap<(usize, u64), Instant>,
    latencies: Vec<Duration>,
}

fn main() {
    let per_lane: u64 = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(200);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(bench(per_lane));
}

async fn bench(per_lane: u64) {
    let dir = std::env::temp_dir().join(format!(
        "asean-lane-supervision-bench-{}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).expect("temp dir");
    // The PKI and officers file.
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("params");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "bench CA");
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign];
    let ca =
        CertifiedIssuer::self_signed(ca_params, KeyPair::generate().expect("key")).expect("CA");
    let issue = |names: Vec<String>, usage: ExtendedKeyUsagePurpose| {
        let mut params = CertificateParams::new(names).expect("params");
        params.distinguished_name.push(DnType::CommonName, "bench");
        params.extended_key_usages = vec![usage];
        let key = KeyPair::generate().expect("key");
        let cert = params.signed_by(&key, &ca).expect("cert");
        (cert.pem(), key.serialize_pem())
    };
    let (kiosk_cert, kiosk_key) = issue(
        vec!["localhost".into()],
        ExtendedKeyUsagePurpose::ServerAuth,
    );
    let (console_cert, console_key) = issue(Vec::new(), ExtendedKeyUsagePurpose::ClientAuth);
    let write = |name: &str, text: &str| {
        let path = dir.join(name);
        std::fs::write(&path, text).expect("write");
        path
    };
    let officers =
        officers_toml(&[OfficerRecord::new("OFC-1", "482916", MIN_ITERATIONS).expect("officer")]);
    let config = SupervisionConfig {
        listen: "127.0.0.1:0".parse().expect("addr"),
        ca_cert: write("ca.pem", &ca.pem()),
        cert: write("kiosk.pem", &kiosk_cert),
        key: write("kiosk.key", &kiosk_key),
        officers: write("officers.toml", &officers),
        limits: Limits {
            max_consoles: 4,
            ..Limits::default()
        },
    };
    let tls = ClientTls::from_pem(
        ca.pem().as_bytes(),
        console_cert.as_bytes(),
        console_key.as_bytes(),
    )
    .expect("client TLS");

    // 20 servers, each with its own outlets; the lanes' input channels drained.
    let mut outlets = Vec::new();
    let mut clients = Vec::new();
    let clock = Arc::new(Mutex::new(Clock::default()));
    let (done_tx, mut done_rx) = tokio::sync::mpsc::unbounded_channel::<()>();
    for lane in 0..LANES {
        let out = Outlets::new(1024);
        let (tx, mut rx) = runtime::channel();
        tokio::spawn(async move { while rx.recv().await.is_some() {} });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let server = serve(listener, &config, format!("L{lane:02}"), &out, tx).expect("server");
        tokio::spawn(server);
        let mut client = SupervisionClient::connect(addr, "localhost", &tls)
            .await
            .expect("connect");
        client.login("OFC-1", "482916").await.expect("login");
        let mut stream = client.subscribe().await.expect("subscribe");
        match stream.recv().await {
            Some(ServerMessage::Snapshot(_)) => {}
            other => panic!("expected a snapshot, got {other:?}"),
        }
        let clock = clock.clone();
        let done = done_tx.clone();
        tokio::spawn(async move {
            while let Some(m) = stream.recv().await {
                let arrived = Instant::now();
                if let ServerMessage::Event {
                    event: WireEvent::Recorded { passage, .. },
                    ..
                } = m
                {
                    let mut c = clock.lock().expect("clock");
                    if let Some(sent) = c.sent.remove(&(lane, passage)) {
                        c.latencies.push(arrived - sent);
                    }
                    drop(c);
                    let _ = done.send(());
                }
            }
        });
        outlets.push(out);
        clients.push(client);
    }

    let send = |lane: usize, passage: u64| {
        clock
            .lock()
            .expect("clock")
            .sent
            .insert((lane, passage), Instant::now());
        let _ = outlets[lane].events.send(LaneEvent::Recorded {
            passage: PassageId(passage),
            record_id: RecordId::from_bytes([7; 16]),
        });
    };

    // Warm-up: one event per lane.
    for lane in 0..LANES {
        send(lane, 0);
    }
    for _ in 0..LANES {
        done_rx.recv().await;
    }
    clock.lock().expect("clock").latencies.clear();

    // Steady: one event every 2 ms, round robin.
    let mut tick = tokio::time::interval(Duration::from_millis(2));
    for passage in 1..=per_lane {
        for lane in 0..LANES {
            tick.tick().await;
            send(lane, passage);
        }
    }
    for _ in 0..(per_lane as usize * LANES) {
        done_rx.recv().await;
    }
    let steady = std::mem::take(&mut clock.lock().expect("clock").latencies);

    // Burst: every lane at once, every 50 ms.
    let mut tick = tokio::time::interval(Duration::from_millis(50));
    let bursts = (per_lane / 4).max(10);
    for b in 0..bursts {
        tick.tick().await;
        for lane in 0..LANES {
            send(lane, 1_000_000 + b);
        }
    }
    for _ in 0..(bursts as usize * LANES) {
        done_rx.recv().await;
    }
    let burst = std::mem::take(&mut clock.lock().expect("clock").latencies);

    println!(
        "lane event (events.send) -> arrival at a console connected to {LANES} lanes (mutual TLS, loopback)"
    );
    report("steady, 1 event / 2 ms over 20 lanes", steady);
    report("burst, 20 lanes at once every 50 ms", burst);
    drop(clients);
    let _ = std::fs::remove_dir_all(&dir);
}

fn report(name: &str, mut times: Vec<Duration>) {
    times.sort();
    let pct = |p: usize| times[(times.len() * p / 100).min(times.len() - 1)];
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!("  {name}: {} events", times.len());
    println!(
        "    p50 {:>7.3} ms   p90 {:>7.3} ms   p99 {:>7.3} ms   max {:>7.3} ms",
        ms(pct(50)),
        ms(pct(90)),
        ms(pct(99)),
        ms(times[times.len() - 1])
    );
    let row = format!("Supervision: lane event -> console, {name}");
    for (figure, value) in [("p50", ms(pct(50))), ("p99", ms(pct(99)))] {
        bench_figure::emit("supervision", &row, figure, value, "ms").expect("BENCH_REPORT");
    }
}
