//! Compiles `ui/console.slint` with the catalogues of `lang/` bundled, the
//! fonts of `../fonts` embedded, and the debug info the testing backend needs
//! to find elements by accessible label.
fn main() {
    let config = slint_build::CompilerConfiguration::new()
        .embed_resources(slint_build::EmbedResourcesKind::EmbedFiles)
        .with_bundled_translations("lang")
        .with_default_translation_context(slint_build::DefaultTranslationContext::None)
        .with_debug_info(true);
    if let Err(e) = slint_build::compile_with_config("ui/console.slint", config) {
        eprintln!("slint: {e}");
        std::process::exit(1);
    }
}
