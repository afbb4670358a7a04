//! Rendering with no display at all: Slint's software renderer into memory.
//! Used by `render-screens` and the benchmark.
#![forbid(unsafe_code)]

use std::rc::Rc;

use slint::platform::software_renderer::{
    MinimalSoftwareWindow, PremultipliedRgbaColor, RepaintBufferType,
};
use slint::platform::{Platform, WindowAdapter};
use slint::{ComponentHandle, PhysicalSize, PlatformError};

use crate::kiosk_ui::{Clock, KioskUi, UiError};
use crate::view_model::UiEvent;

/// The kiosk screen's size in pixels: 1920x1080, scale factor 1.
pub const SCREEN: (u32, u32) = (1920, 1080);

struct HeadlessPlatform {
    window: Rc<MinimalSoftwareWindow>,
}

impl Platform for HeadlessPlatform {
    fn create_window_adapter(&self) -> Result<Rc<dyn WindowAdapter>, PlatformError> {
        Ok(self.window.clone())
    }
}

/// A [`KioskUi`] on an in-memory 1920x1080 window, with a manual clock and
/// frozen animations, so every frame of a given view is the same.
pub struct Headless {
    window: Rc<MinimalSoftwareWindow>,
    ui: KioskUi,
}

impl Headless {
    /// Installs the headless platform on this thread and creates the UI.
    ///
    /// # Errors
    /// [`UiError::Platform`] when a Slint platform is already set on this
    /// thread, or the window cannot be created.
    pub fn new(sink: impl FnMut(UiEvent) + 'static) -> Result<Headless, UiError> {
        let window = MinimalSoftwareWindow::new(RepaintBufferType::NewBuffer);
        window.set_size(PhysicalSize::new(SCREEN.0, SCREEN.1));
        slint::platform::set_platform(Box::new(HeadlessPlatform {
            window: window.clone(),
        }))
        .map_err(|e| UiError::Platform(PlatformError::Other(e.to_string())))?;
        let ui = KioskUi::new(sink, Clock::Manual)?;
        ui.set_motion(false);
        ui.window().show()?;
        Ok(Headless { window, ui })
    }

    /// The UI.
    pub fn ui(&self) -> &KioskUi {
        &self.ui
    }

    /// Renders one whole frame into `buffer` (`SCREEN.0 * SCREEN.1` pixels,
    /// row by row), as the kiosk's display loop would.
    pub fn render_frame(&self, buffer: &mut [PremultipliedRgbaColor]) {
        slint::platform::update_timers_and_animations();
        self.window.request_redraw();
        self.window.draw_if_needed(|renderer| {
            renderer.render(buffer, SCREEN.0 as usize);
        });
    }

    /// A buffer for [`render_frame`](Self::render_frame).
    pub fn frame_buffer() -> Vec<PremultipliedRgbaColor> {
        vec![PremultipliedRgbaColor::default(); SCREEN.0 as usize * SCREEN.1 as usize]
    }
}
