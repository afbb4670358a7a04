//! The console's alert sounds: a chime made here as a WAV file (16-bit PCM,
//! mono) and played by the desktop's own player, so the console needs no
//! audio library; the terminal bell when no player is there.
//!
//! An urgent alert rings three rising tones, a notice one: an officer can
//! tell them apart without looking.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::Chime;

/// Samples per second of the chimes.
pub const SAMPLE_RATE: u32 = 22_050;

/// Players tried in order (PipeWire, PulseAudio, ALSA), each with its quiet flag.
const PLAYERS: [(&str, &[&str]); 3] = [("pw-play", &[]), ("paplay", &[]), ("aplay", &["-q"])];

/// The chime as a complete WAV file.
#[must_use]
pub fn wav(chime: Chime) -> Vec<u8> {
    // (frequency in Hz, milliseconds) per tone; a short gap follows each.
    let tones: &[(f32, u32)] = match chime {
        Chime::Urgent => &[(880.0, 140), (1175.0, 140), (1568.0, 220)],
        Chime::Notice => &[(660.0, 200)],
    };
    let mut samples: Vec<i16> = Vec::new();
    for &(freq, ms) in tones {
        let n = SAMPLE_RATE * ms / 1000;
        for i in 0..n {
            let t = i as f32 / SAMPLE_RATE as f32;
            // A 5 ms fade at both ends: no click.
            let edge = (i.min(n - i) as f32 / (SAMPLE_RATE as f32 * 0.005)).min(1.0);
            let v = (std::f32::consts::TAU * freq * t).sin() * edge * 0.6;
            samples.push((v * f32::from(i16::MAX)) as i16);
        }
        samples.extend(std::iter::repeat_n(0, (SAMPLE_RATE / 25) as usize));
    }
    encode_wav(&samples)
}

/// Plays the chime without waiting for it: through the first player found
/// on `PATH`, else the terminal bell. Whether a player took it.
pub fn play(chime: Chime, dir: &Path) -> bool {
    let file = match write_once(chime, dir) {
        Ok(file) => file,
        Err(e) => {
            tracing::warn!(error = %e, "console: chime file not written");
            bell(chime);
            return false;
        }
    };
    for (player, flags) in PLAYERS {
        let spawned = Command::new(player)
            .args(flags)
            .arg(&file)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        if let Ok(mut child) = spawned {
            // Reaped on a thread of its own so no zombie is left.
            std::thread::spawn(move || child.wait());
            return true;
        }
    }
    bell(chime);
    false
}

/// The chime's file in `dir`, written the first time.
fn write_once(chime: Chime, dir: &Path) -> std::io::Result<PathBuf> {
    let name = match chime {
        Chime::Urgent => "officer-console-urgent.wav",
        Chime::Notice => "officer-console-notice.wav",
    };
    let path = dir.join(name);
    if !path.exists() {
        let tmp = dir.join(format!("{name}.{}.tmp", std::process::id()));
        std::fs::write(&tmp, wav(chime))?;
        std::fs::rename(&tmp, &path)?;
    }
    Ok(path)
}

/// The terminal bell: twice for an urgent alert.
fn bell(chime: Chime) {
    let bell: &[u8] = match chime {
        Chime::Urgent => b"\x07\x07",
        Chime::Notice => b"\x07",
    };
    let mut out = std::io::stdout();
    let _ = out.write_all(bell).and_then(|()| out.flush());
}

/// A RIFF/WAVE file of 16-bit mono PCM at [`SAMPLE_RATE`].
fn encode_wav(samples: &[i16]) -> Vec<u8> {
    let data_len = u32::try_from(samples.len() * 2).unwrap_or(u32::MAX);
    let mut out = Vec::with_capacity(44 + samples.len() * 2);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data_len).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes()); // fmt chunk size
    out.extend_from_slice(&1u16.to_le_bytes()); // PCM
    out.extend_from_slice(&1u16.to_le_bytes()); // mono
    out.extend_from_slice(&SAMPLE_RATE.to_le_bytes());
    out.extend_from_slice(&(SAMPLE_RATE * 2).to_le_bytes()); // byte rate
    out.extend_from_slice(&2u16.to_le_bytes()); // block align
    out.extend_from_slice(&16u16.to_le_bytes()); // bits per sample
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data_len.to_le_bytes());
    for s in samples {
        out.extend_from_slice(&s.to_le_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The samples of a WAV made by [`encode_wav`], checking its header.
    fn samples(wav: &[u8]) -> Vec<i16> {
        assert_eq!(&wav[0..4], b"RIFF");
        assert_eq!(&wav[8..16], b"WAVEfmt ");
        assert_eq!(
            u32::from_le_bytes(wav[4..8].try_into().unwrap()) as usize,
            wav.len() - 8
        );
        assert_eq!(
            u32::from_le_bytes(wav[24..28].try_into().unwrap()),
            SAMPLE_RATE
        );
        assert_eq!(&wav[36..40], b"data");
        let len = u32::from_le_bytes(wav[40..44].try_into().unwrap()) as usize;
        assert_eq!(len, wav.len() - 44);
        wav[44..]
            .chunks_exact(2)
            .map(|c| i16::from_le_bytes([c[0], c[1]]))
            .collect()
    }

    /// Rising edges through zero: twice the tone's cycles.
    fn zero_crossings(s: &[i16]) -> usize {
        s.windows(2).filter(|w| (w[0] < 0) != (w[1] < 0)).count()
    }

    #[test]
    fn an_urgent_chime_is_longer_and_higher_than_a_notice() {
        let urgent = samples(&wav(Chime::Urgent));
        let notice = samples(&wav(Chime::Notice));
        assert!(urgent.len() > notice.len() * 2);
        // Loud enough to hear, never clipped to the rails.
        for s in [&urgent, &notice] {
            let peak = s.iter().map(|v| v.unsigned_abs()).max().unwrap();
            assert!(peak > 15_000 && peak < i16::MAX as u16, "{peak}");
        }
        // The notice is 660 Hz for 200 ms: about 264 crossings.
        let c = zero_crossings(&notice);
        assert!((250..=280).contains(&c), "{c}");
        // The urgent one's last tone (1568 Hz) is the highest.
        let last = &urgent[urgent.len() - (SAMPLE_RATE as usize * 260 / 1000)..];
        assert!(zero_crossings(last) > 600, "{}", zero_crossings(last));
    }

    #[test]
    fn tones_fade_in_and_out_without_a_click() {
        let s = samples(&wav(Chime::Notice));
        assert!(s[0].unsigned_abs() < 100 && s[1].unsigned_abs() < 500);
        let tone_end = (SAMPLE_RATE * 200 / 1000) as usize;
        assert!(s[tone_end - 1].unsigned_abs() < 500);
        assert!(s[tone_end..].iter().all(|&v| v == 0), "silence after");
    }

    #[test]
    fn the_chime_file_is_written_once_and_reused() {
        let dir = std::env::temp_dir().join(format!("console-sound-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let a = write_once(Chime::Urgent, &dir).unwrap();
        let b = write_once(Chime::Urgent, &dir).unwrap();
        assert_eq!(a, b);
        assert_eq!(std::fs::read(&a).unwrap(), wav(Chime::Urgent));
        assert_ne!(write_once(Chime::Notice, &dir).unwrap(), a);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
