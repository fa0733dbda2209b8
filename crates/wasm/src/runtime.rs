//! The minimal runtime of shipped builds (feature `wasm-min`): the global
//! allocator and the panic handler live here, not in the core.
//!
//! A panic traps (WebAssembly `unreachable`), which surfaces in JS as a
//! `RuntimeError`; sealpass code returns typed errors for every input, so a
//! trap means a bug, never a normal failure path. The allocator is a small
//! coalescing free list instead of dlmalloc, which is most of the size win.

#[global_allocator]
static ALLOCATOR: lol_alloc::LockedAllocator<lol_alloc::FreeListAllocator> =
    lol_alloc::LockedAllocator::new(lol_alloc::FreeListAllocator::new());

#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    core::arch::wasm32::unreachable()
}
