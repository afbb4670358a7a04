//! Rendering with no display at all: Slint's software renderer into memory,
//! for `render-console` and tests.
#![forbid(unsafe_code)]

use std::rc::Rc;

use slint::platform::software_renderer::{
    MinimalSoftwareWindow, PremultipliedRgbaColor, RepaintBufferType,
};
use slint::platform::{Platform, WindowAdapter};
use slint::{PhysicalSize, PlatformError};

use crate::console_ui::{Clock, ConsoleUi, UiError, UiRequest};

/// The console's design size in pixels: 1920x1080, scale factor 1.
pub const SCREEN: (u32, u32) = (1920, 1080);

struct HeadlessPlatform {
    window: Rc<MinimalSoftwareWindow>,
}

impl Platform for HeadlessPlatform {
    fn create_window_adapter(&self) -> Result<Rc<dyn WindowAdapter>, PlatformError> {
        Ok(self.window.clone())
    }
}

/// A [`ConsoleUi`] on an in-memory 1920x1080 window with a manual clock.
pub struct Headless {
    window: Rc<MinimalSoftwareWindow>,
    ui: ConsoleUi,
}

impl Headless {
    /// Installs the headless platform on this thread and creates the console.
    ///
    /// # Errors
    /// [`UiError::Platform`] when a Slint platform is already set on this
    /// thread, or the window cannot be created.
    pub fn new(
        officer_id: &str,
        lane_names: &[String],
        sink: impl FnMut(UiRequest) + 'static,
    ) -> Result<Headless, UiError> {
        let window = MinimalSoftwareWindow::new(RepaintBufferType::NewBuffer);
        window.set_size(PhysicalSize::new(SCREEN.0, SCREEN.1));
        slint::platform::set_platform(Box::new(HeadlessPlatform {
            window: window.clone(),
        }))
        .map_err(|e| UiError::Platform(PlatformError::Other(e.to_string())))?;
        let ui = ConsoleUi::new(officer_id, lane_names, sink, Clock::Manual)?;
        slint::ComponentHandle::show(ui.window())?;
        Ok(Headless { window, ui })
    }

    /// The console.
    pub fn ui(&self) -> &ConsoleUi {
        &self.ui
    }

    /// Renders one whole frame as 8-bit RGB, row by row.
    pub fn render_rgb(&self) -> Vec<u8> {
        let (w, h) = (SCREEN.0 as usize, SCREEN.1 as usize);
        let mut rgb = vec![0u8; w * h * 3];
        let mut frame = vec![PremultipliedRgbaColor::default(); w * h];
        slint::platform::update_timers_and_animations();
        self.window.request_redraw();
        self.window.draw_if_needed(|renderer| {
            renderer.render(&mut frame, w);
        });
        for (px, out) in frame.iter().zip(rgb.chunks_exact_mut(3)) {
            out.copy_from_slice(&[px.red, px.green, px.blue]);
        }
        rgb
    }
}

/// Writes 8-bit RGB pixels as a PNG file.
///
/// # Errors
/// The file cannot be written.
pub fn write_png(
    path: &std::path::Path,
    width: u32,
    height: u32,
    rgb: &[u8],
) -> std::io::Result<()> {
    let file = std::fs::File::create(path)?;
    let mut encoder = png::Encoder::new(std::io::BufWriter::new(file), width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_compression(png::Compression::Fast);
    let mut writer = encoder.write_header().map_err(std::io::Error::other)?;
    writer
        .write_image_data(rgb)
        .map_err(std::io::Error::other)?;
    writer.finish().map_err(std::io::Error::other)
}
