//! Proc macros of `lockdep-core`, re-exported there (users depend on `lockdep-core` only):
//!
//! - `#[lockdep_core::test]`: a `#[test]` run with the validator in panic mode, failing with
//!   the rendered report on any problem, and leaving a report file named after the test.
//! - `lockdep_core::lock_order!`: a lock order over class keys, checked at compile time (an
//!   unknown key or a cyclic order is a compile error on the offending name).

use proc_macro::TokenStream;
use quote::{quote, ToTokens};
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{parse_macro_input, ItemFn, Path, Token};

/// Runs a test with lock-dependency validation in panic mode.
///
/// The test fails with the kernel-style report of any problem found by its thread (or by a
/// thread it spawned while it ran), and writes `<test path>.json` into `LOCKDEP_REPORT_DIR`
/// (a passing test leaves a clean file: `"reports": []`, with the graph learned so far).
#[proc_macro_attribute]
pub fn test(attr: TokenStream, item: TokenStream) -> TokenStream {
    if !attr.is_empty() {
        let msg = "#[lockdep_core::test] takes no arguments";
        return syn::Error::new(
            proc_macro2::TokenStream::from(attr)
                .into_iter()
                .next()
                .map_or_else(proc_macro2::Span::call_site, |t| t.span()),
            msg,
        )
        .to_compile_error()
        .into();
    }
    let func = parse_macro_input!(item as ItemFn);
    if !func.sig.inputs.is_empty() {
        return syn::Error::new_spanned(&func.sig.inputs, "a test takes no arguments")
            .to_compile_error()
            .into();
    }
    if func.sig.asyncness.is_some() {
        return syn::Error::new_spanned(func.sig.asyncness, "async tests are not supported")
            .to_compile_error()
            .into();
    }
    let attrs = &func.attrs;
    let vis = &func.vis;
    let name = &func.sig.ident;
    let ret = &func.sig.output;
    let body = &func.block;
    let name_str = name.to_string();
    quote! {
        #[::core::prelude::v1::test]
        #(#attrs)*
        #vis fn #name() #ret {
            ::lockdep_core::__private::run_test(
                ::core::concat!(::core::module_path!(), "::", #name_str),
                move || #ret #body,
            )
        }
    }
    .into()
}

struct Chains(Punctuated<Punctuated<Path, Token![=>]>, Token![;]>);

impl Parse for Chains {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let chains = Punctuated::parse_terminated_with(input, |i| {
            Punctuated::<Path, Token![=>]>::parse_separated_nonempty(i)
        })?;
        Ok(Chains(chains))
    }
}

fn key(p: &Path) -> String {
    p.to_token_stream().to_string().replace(' ', "")
}

/// Declares a lock order over `static` [`LockClassKey`]s, outer first, one chain per `;`:
///
/// ```ignore
/// lockdep_core::lock_order! {
///     I_RWSEM => MMAP_LOCK => VMA_LOCK => I_MMAP => ANON_VMA;
///     I_MMAP => ANON_VMA => PAGE_TABLE_LOCK;
/// }
/// ```
///
/// Evaluates to `Result<(), lockdep_core::rules::RuleError>` after registering the order with
/// the process-wide validator. A name that is not a key in scope, or an order that is cyclic
/// in itself, is a compile error pointing at the offending name.
#[proc_macro]
pub fn lock_order(input: TokenStream) -> TokenStream {
    let Chains(chains) = parse_macro_input!(input as Chains);
    // Compile-time cycle check over the names: edges between consecutive names.
    let mut names: Vec<String> = Vec::new();
    let mut edges: Vec<(usize, usize, &Path)> = Vec::new();
    for chain in &chains {
        let ids: Vec<(usize, &Path)> = chain
            .iter()
            .map(|p| {
                let k = key(p);
                let i = names.iter().position(|n| *n == k).unwrap_or_else(|| {
                    names.push(k);
                    names.len() - 1
                });
                (i, p)
            })
            .collect();
        for w in ids.windows(2) {
            if w[0].0 == w[1].0 {
                return syn::Error::new_spanned(
                    w[1].1,
                    format!("`{}` is ordered before itself", key(w[1].1)),
                )
                .to_compile_error()
                .into();
            }
            edges.push((w[0].0, w[1].0, w[1].1));
        }
    }
    // Add edges one by one; the first that closes a cycle is the offending name.
    let n = names.len();
    let mut reach = vec![vec![false; n]; n];
    for &(a, b, path) in &edges {
        if reach[b][a] {
            return syn::Error::new_spanned(
                path,
                format!(
                    "cyclic lock order: `{}` is already ordered before `{}`",
                    names[b], names[a]
                ),
            )
            .to_compile_error()
            .into();
        }
        let preds: Vec<usize> = (0..n).filter(|&x| x == a || reach[x][a]).collect();
        let succs: Vec<usize> = (0..n).filter(|&y| y == b || reach[b][y]).collect();
        for &x in &preds {
            for &y in &succs {
                reach[x][y] = true;
            }
        }
    }
    let chains = chains.iter().map(|c| {
        let keys = c.iter().map(|p| {
            quote::quote_spanned! {syn::spanned::Spanned::span(p)=>
                { let k: &'static ::lockdep_core::LockClassKey = &#p; k }
            }
        });
        quote! { &[#(#keys),*] }
    });
    quote! {
        ::lockdep_core::rules::declare_order_keys(&[#(#chains),*])
    }
    .into()
}
