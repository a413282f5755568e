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
/// thread it spawned while it ran), and writes `<package>.<test path>.json` into
/// `LOCKDEP_REPORT_DIR` (`CARGO_PKG_NAME` where the test is compiled, so two crates' test
/// files of one name do not share files; a passing test leaves a clean file: `"reports": []`,
/// with the graph learned so far).
///
/// On an `async fn` (lockdep-core's `tokio` feature) the test runs on a tokio runtime, its
/// future an instrumented task: current-thread by default, or
/// `#[lockdep_core::test(flavor = "multi_thread", worker_threads = 2)]` as with
/// `#[tokio::test]`. Without the feature an `async fn` is a compile error naming it.
#[proc_macro_attribute]
pub fn test(attr: TokenStream, item: TokenStream) -> TokenStream {
    let func = parse_macro_input!(item as ItemFn);
    let attr = proc_macro2::TokenStream::from(attr);
    if func.sig.asyncness.is_none() && !attr.is_empty() {
        let msg = "#[lockdep_core::test] takes no arguments";
        let span = attr.into_iter().next().map_or_else(proc_macro2::Span::call_site, |t| t.span());
        return syn::Error::new(span, msg).to_compile_error().into();
    }
    if !func.sig.inputs.is_empty() {
        return syn::Error::new_spanned(&func.sig.inputs, "a test takes no arguments")
            .to_compile_error()
            .into();
    }
    let attrs = &func.attrs;
    let vis = &func.vis;
    let name = &func.sig.ident;
    let ret = &func.sig.output;
    let body = &func.block;
    let name_str = name.to_string();
    if func.sig.asyncness.is_some() {
        let flavor = match syn::parse::Parser::parse2(AsyncArgs::parse, attr) {
            Ok(a) => a.flavor_tokens(),
            Err(e) => return e.to_compile_error().into(),
        };
        return quote! {
            ::lockdep_core::__async_test_needs_tokio!();
            #[::core::prelude::v1::test]
            #(#attrs)*
            #vis fn #name() #ret {
                async fn __lockdep_test_body() #ret #body
                ::lockdep_core::__async_test!(
                    ::core::concat!(
                        ::core::env!("CARGO_PKG_NAME"),
                        ".",
                        ::core::module_path!(),
                        "::",
                        #name_str
                    ),
                    #flavor,
                    __lockdep_test_body()
                )
            }
        }
        .into();
    }
    quote! {
        #[::core::prelude::v1::test]
        #(#attrs)*
        #vis fn #name() #ret {
            ::lockdep_core::__private::run_test(
                ::core::concat!(
                    ::core::env!("CARGO_PKG_NAME"),
                    ".",
                    ::core::module_path!(),
                    "::",
                    #name_str
                ),
                move || #ret #body,
            )
        }
    }
    .into()
}

/// The arguments of `#[lockdep_core::test]` on an `async fn`: `#[tokio::test]`'s `flavor`
/// and `worker_threads`.
struct AsyncArgs {
    multi_thread: bool,
    workers: Option<syn::LitInt>,
}

impl AsyncArgs {
    fn parse(input: ParseStream<'_>) -> syn::Result<AsyncArgs> {
        let args = Punctuated::<syn::MetaNameValue, Token![,]>::parse_terminated(input)?;
        let mut out = AsyncArgs { multi_thread: false, workers: None };
        let mut flavor_span = None;
        for arg in args {
            let lit = match &arg.value {
                syn::Expr::Lit(syn::ExprLit { lit, .. }) => lit.clone(),
                v => return Err(syn::Error::new_spanned(v, "expected a literal")),
            };
            match (arg.path.get_ident().map(|i| i.to_string()).as_deref(), lit) {
                (Some("flavor"), syn::Lit::Str(s)) => {
                    out.multi_thread = match s.value().as_str() {
                        "current_thread" => false,
                        "multi_thread" => true,
                        _ => {
                            return Err(syn::Error::new_spanned(
                                s,
                                "flavor is \"current_thread\" or \"multi_thread\"",
                            ))
                        }
                    };
                    flavor_span = Some(arg.path.clone());
                }
                (Some("worker_threads"), syn::Lit::Int(n)) => {
                    if n.base10_parse::<usize>()? == 0 {
                        return Err(syn::Error::new_spanned(
                            n,
                            "worker_threads must be at least 1",
                        ));
                    }
                    out.workers = Some(n);
                }
                _ => {
                    return Err(syn::Error::new_spanned(
                        arg,
                        "expected `flavor = \"current_thread\" | \"multi_thread\"` or \
                         `worker_threads = N`",
                    ))
                }
            }
        }
        if let (false, Some(n)) = (out.multi_thread, &out.workers) {
            let at = flavor_span.map_or_else(|| n.to_token_stream(), |p| p.to_token_stream());
            return Err(syn::Error::new_spanned(
                at,
                "worker_threads needs flavor = \"multi_thread\" (the current-thread runtime has \
                 no workers)",
            ));
        }
        Ok(out)
    }

    /// `lockdep_core::__private::Flavor` as tokens.
    fn flavor_tokens(&self) -> proc_macro2::TokenStream {
        match (self.multi_thread, &self.workers) {
            (false, _) => quote!(::lockdep_core::__private::Flavor::CurrentThread),
            (true, Some(n)) => quote!(::lockdep_core::__private::Flavor::MultiThread(Some(#n))),
            (true, None) => quote!(::lockdep_core::__private::Flavor::MultiThread(None)),
        }
    }
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

/// Declares a lock order over `static` `LockClassKey`s, outer first, one chain per `;`:
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
    let chains: Vec<Vec<Path>> = chains.into_iter().map(|c| c.into_iter().collect()).collect();
    match order_tokens(&chains) {
        Ok(t) => t.into(),
        Err(e) => e.to_compile_error().into(),
    }
}

/// Checks `chains` for cycles at compile time and expands to the `declare_order_keys` call.
fn order_tokens(chains: &[Vec<Path>]) -> syn::Result<proc_macro2::TokenStream> {
    // Compile-time cycle check over the names: edges between consecutive names.
    let mut names: Vec<String> = Vec::new();
    let mut edges: Vec<(usize, usize, &Path)> = Vec::new();
    for chain in chains {
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
                return Err(syn::Error::new_spanned(
                    w[1].1,
                    format!("`{}` is ordered before itself", key(w[1].1)),
                ));
            }
            edges.push((w[0].0, w[1].0, w[1].1));
        }
    }
    // Add edges one by one; the first that closes a cycle is the offending name.
    let n = names.len();
    let mut reach = vec![vec![false; n]; n];
    for &(a, b, path) in &edges {
        if reach[b][a] {
            return Err(syn::Error::new_spanned(
                path,
                format!(
                    "cyclic lock order: `{}` is already ordered before `{}`",
                    names[b], names[a]
                ),
            ));
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
    Ok(quote! {
        ::lockdep_core::rules::declare_order_keys(&[#(#chains),*])
    })
}

/// A class and a mode set in a rule: `KEY(write)`, `KEY(any, blocking)`.
struct ClassModes {
    key: Path,
    modes: proc_macro2::TokenStream,
    blocking: bool,
}

fn parse_class_modes(input: ParseStream<'_>, allow_blocking: bool) -> syn::Result<ClassModes> {
    let key: Path = input.parse()?;
    let content;
    syn::parenthesized!(content in input);
    let words = Punctuated::<syn::Ident, Token![,]>::parse_terminated(&content)?;
    let mut modes = None;
    let mut blocking = false;
    for w in &words {
        let set = match w.to_string().as_str() {
            "write" => quote! { WRITE },
            "read" => quote! { READ },
            "recursive_read" => quote! { RECURSIVE_READ },
            "downgraded" => quote! { DOWNGRADED },
            "shared" => quote! { SHARED },
            "exclusive" => quote! { EXCLUSIVE },
            "any" => quote! { ANY },
            "blocking" if allow_blocking => {
                blocking = true;
                continue;
            }
            other => {
                return Err(syn::Error::new_spanned(
                    w,
                    format!(
                        "unknown mode `{other}`: expected write, read, recursive_read, downgraded, \
                         shared, exclusive or any{}",
                        if allow_blocking { " (and optionally blocking)" } else { "" }
                    ),
                ))
            }
        };
        if modes.is_some() {
            return Err(syn::Error::new_spanned(w, "one mode set per class"));
        }
        modes = Some(quote! { ::lockdep_core::rules::ModeSet::#set });
    }
    let modes = modes.unwrap_or_else(|| quote! { ::lockdep_core::rules::ModeSet::ANY });
    Ok(ClassModes { key, modes, blocking })
}

enum Item {
    Order(Vec<Path>),
    Rule { name: syn::LitStr, target: ClassModes, requires: bool, other: ClassModes },
}

struct Items(Vec<Item>);

impl Parse for Items {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let mut items = Vec::new();
        while !input.is_empty() {
            let kw: syn::Ident = input.parse()?;
            match kw.to_string().as_str() {
                "order" => {
                    let chain = Punctuated::<Path, Token![=>]>::parse_separated_nonempty(input)?;
                    items.push(Item::Order(chain.into_iter().collect()));
                }
                "rule" => {
                    let name: syn::LitStr = input.parse()?;
                    input.parse::<Token![:]>()?;
                    let target = parse_class_modes(input, true)?;
                    let verb: syn::Ident = input.parse()?;
                    let requires = match verb.to_string().as_str() {
                        "requires" => true,
                        "forbids" => false,
                        _ => {
                            return Err(syn::Error::new_spanned(
                                verb,
                                "expected `requires` or `forbids`",
                            ))
                        }
                    };
                    let other = parse_class_modes(input, false)?;
                    if key(&other.key) == key(&target.key) {
                        return Err(syn::Error::new_spanned(
                            &other.key,
                            "a rule relates two different classes",
                        ));
                    }
                    items.push(Item::Rule { name, target, requires, other });
                }
                _ => return Err(syn::Error::new_spanned(kw, "expected `order` or `rule`")),
            }
            if !input.is_empty() {
                input.parse::<Token![;]>()?;
            }
        }
        Ok(Items(items))
    }
}

/// Declares lock orders and must-hold / must-not-hold rules over `static`
/// `LockClassKey`s in one block, checked at compile time where possible:
///
/// ```ignore
/// lockdep_core::lock_rules! {
///     order MMAP_LOCK => VMA_LOCK => I_MMAP => ANON_VMA;
///     rule "vma_write_needs_mmap_write": VMA_LOCK(write) requires MMAP_LOCK(write);
///     rule "no_blocking_mmap_under_vma_read": MMAP_LOCK(any, blocking) forbids VMA_LOCK(shared);
/// }
/// ```
///
/// Modes: `write`, `read`, `recursive_read`, `downgraded`, `shared` (R, RR, D), `exclusive`
/// (W, D), `any`; `blocking` on the acquired class exempts trylocks. Unknown keys, unknown
/// modes, a rule relating a class to itself and a cyclic order are compile errors on the
/// offending token. Evaluates to `Result<(), lockdep_core::rules::RuleError>`.
#[proc_macro]
pub fn lock_rules(input: TokenStream) -> TokenStream {
    let Items(items) = parse_macro_input!(input as Items);
    let chains: Vec<Vec<Path>> = items
        .iter()
        .filter_map(|i| match i {
            Item::Order(c) => Some(c.clone()),
            Item::Rule { .. } => None,
        })
        .collect();
    let order = match order_tokens(&chains) {
        Ok(t) => t,
        Err(e) => return e.to_compile_error().into(),
    };
    let rules = items.iter().filter_map(|i| match i {
        Item::Order(_) => None,
        Item::Rule { name, target, requires, other } => {
            let (tk, tm) = (&target.key, &target.modes);
            let (ok, om) = (&other.key, &other.modes);
            let blocking = target.blocking.then(|| quote! { .blocking_only() });
            let check = if *requires {
                quote! { requires_held }
            } else {
                quote! { forbids_held }
            };
            let tk = quote::quote_spanned! {syn::spanned::Spanned::span(tk)=>
                { let k: &'static ::lockdep_core::LockClassKey = &#tk; k }
            };
            let ok = quote::quote_spanned! {syn::spanned::Spanned::span(ok)=>
                { let k: &'static ::lockdep_core::LockClassKey = &#ok; k }
            };
            Some(quote! {
                ::lockdep_core::rules::Rule::new(#name)
                    .when_acquiring(#tk.name(), #tm)
                    #blocking
                    .#check(#ok.name(), #om)
                    .register()?;
            })
        }
    });
    quote! {
        (|| -> ::core::result::Result<(), ::lockdep_core::rules::RuleError> {
            #order?;
            #(#rules)*
            ::core::result::Result::Ok(())
        })()
    }
    .into()
}
