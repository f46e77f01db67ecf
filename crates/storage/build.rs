//! Rebuilds the crate when a migration changes: `embed_migrations!` reads the directories at
//! compile time, and Cargo does not know it.

fn main() {
    println!("cargo:rerun-if-changed=../../migrations");
}
