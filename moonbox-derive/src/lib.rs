//! moonbox's procedural macros, re-exported by `moonbox` behind its `macros` feature:
//!
//! - [`chunk!`]: Lua source written inline, with `$name` capturing a Rust variable.
//! - `#[derive(FromLua)]`: converts a userdata holding the type back to a clone of it.
//! - `#[derive(UserData)]`: a userdata type with no methods.

use proc_macro::{Delimiter, Span, TokenStream, TokenTree};
use quote::quote;
use syn::{parse_macro_input, DeriveInput};

/// Lua source as tokens, with `$name` capturing the Rust variable `name` (moved into
/// the chunk's environment, converted with `IntoLua`). Returns something that
/// `Lua::load` accepts.
///
/// The source is rebuilt from the tokens' positions, so lines and spacing are kept.
/// Rust's tokenizer reads it, so comments are Rust's (`//`), strings are
/// double-quoted, and `[[long strings]]` are not available.
#[proc_macro]
pub fn chunk(input: TokenStream) -> TokenStream {
    let mut w = SourceWriter::default();
    w.write_stream(input);
    let source = w.out;
    let caps = w.captures;
    let names: Vec<String> = caps.iter().map(|c| c.to_string()).collect();
    let idents: Vec<proc_macro2::Ident> =
        caps.iter().map(|c| proc_macro2::Ident::new(c, proc_macro2::Span::call_site())).collect();
    let ncaps = caps.len();
    quote! {{
        struct __MoonboxChunk<F: FnOnce(&::moonbox::Lua) -> ::moonbox::Result<::moonbox::Table>>(
            ::std::cell::Cell<::std::option::Option<F>>,
        );

        impl<F> ::moonbox::AsChunk for __MoonboxChunk<F>
        where
            F: FnOnce(&::moonbox::Lua) -> ::moonbox::Result<::moonbox::Table>,
        {
            fn environment(&self, lua: &::moonbox::Lua) -> ::moonbox::Result<::std::option::Option<::moonbox::Table>> {
                if #ncaps > 0 {
                    if let ::std::option::Option::Some(make_env) = self.0.take() {
                        return make_env(lua).map(::std::option::Option::Some);
                    }
                }
                ::std::result::Result::Ok(::std::option::Option::None)
            }

            fn mode(&self) -> ::std::option::Option<::moonbox::ChunkMode> {
                ::std::option::Option::Some(::moonbox::ChunkMode::Text)
            }

            fn source<'a>(&self) -> ::std::io::Result<::std::borrow::Cow<'a, [u8]>> {
                ::std::result::Result::Ok(::std::borrow::Cow::Borrowed((#source).as_bytes()))
            }
        }

        #[allow(unused_variables)]
        let make_env = move |lua: &::moonbox::Lua| -> ::moonbox::Result<::moonbox::Table> {
            let globals = lua.globals();
            let env = lua.create_table()?;
            let meta = lua.create_table()?;
            meta.raw_set("__index", &globals)?;
            meta.raw_set("__newindex", &globals)?;
            #( env.raw_set(#names, #idents)?; )*
            env.set_metatable(::std::option::Option::Some(meta))?;
            ::std::result::Result::Ok(env)
        };

        __MoonboxChunk(::std::cell::Cell::new(::std::option::Option::Some(make_env)))
    }}
    .into()
}

/// Rebuilds Lua source from tokens, keeping their lines and columns.
#[derive(Default)]
struct SourceWriter {
    out: String,
    /// Line and column where the last token ended.
    pos: Option<(usize, usize)>,
    captures: Vec<String>,
}

impl SourceWriter {
    /// Moves to where a token starts: newlines and indentation, or spaces.
    fn move_to(&mut self, span: Span) {
        let (line, col) = (span.line(), span.column());
        match self.pos {
            Some((pl, _)) if line > pl => {
                for _ in pl..line {
                    self.out.push('\n');
                }
                self.out.extend(std::iter::repeat_n(' ', col));
            }
            Some((pl, pc)) if line == pl && col > pc => {
                self.out.extend(std::iter::repeat_n(' ', col - pc));
            }
            Some(_) => {}
            None => {}
        }
    }

    fn ended(&mut self, span: Span) {
        let end = span.end();
        self.pos = Some((end.line(), end.column()));
    }

    fn write(&mut self, span: Span, text: &str) {
        self.move_to(span);
        self.out.push_str(text);
        self.ended(span);
    }

    fn write_stream(&mut self, input: TokenStream) {
        let mut it = input.into_iter().peekable();
        while let Some(tt) = it.next() {
            match tt {
                TokenTree::Punct(p) if p.as_char() == '$' => {
                    if let Some(TokenTree::Ident(id)) = it.peek() {
                        let name = id.to_string();
                        let span = id.span();
                        it.next();
                        self.move_to(p.span());
                        self.out.push_str(&name);
                        self.ended(span);
                        if !self.captures.contains(&name) {
                            self.captures.push(name);
                        }
                    } else {
                        self.write(p.span(), "$");
                    }
                }
                TokenTree::Punct(p) => self.write(p.span(), &p.as_char().to_string()),
                TokenTree::Ident(id) => self.write(id.span(), &id.to_string()),
                TokenTree::Literal(l) => self.write(l.span(), &l.to_string()),
                TokenTree::Group(g) => {
                    let (open, close) = match g.delimiter() {
                        Delimiter::Parenthesis => ("(", ")"),
                        Delimiter::Brace => ("{", "}"),
                        Delimiter::Bracket => ("[", "]"),
                        Delimiter::None => ("", ""),
                    };
                    self.write(g.span_open(), open);
                    self.write_stream(g.stream());
                    self.write(g.span_close(), close);
                }
            }
        }
    }
}

/// `FromLua` for a `Clone` type kept in Lua as a userdata: the conversion borrows the
/// userdata and clones its value.
#[proc_macro_derive(FromLua)]
pub fn from_lua(input: TokenStream) -> TokenStream {
    let DeriveInput { ident, generics, .. } = parse_macro_input!(input as DeriveInput);
    let name = ident.to_string();
    let (impl_generics, ty_generics, _) = generics.split_for_impl();
    let where_clause = match &generics.where_clause {
        Some(w) => quote! { #w, Self: 'static + Clone },
        None => quote! { where Self: 'static + Clone },
    };
    quote! {
        impl #impl_generics ::moonbox::FromLua for #ident #ty_generics #where_clause {
            #[inline]
            fn from_lua(value: ::moonbox::Value, _: &::moonbox::Lua) -> ::moonbox::Result<Self> {
                match value {
                    ::moonbox::Value::UserData(ud) => Ok(ud.borrow::<Self>()?.clone()),
                    _ => Err(::moonbox::Error::FromLuaConversionError {
                        from: value.type_name(),
                        to: #name.to_string(),
                        message: None,
                    }),
                }
            }
        }
    }
    .into()
}

/// `UserData` with no methods or fields (Lua code can pass the value around; Rust
/// code borrows it back).
#[proc_macro_derive(UserData)]
pub fn user_data(input: TokenStream) -> TokenStream {
    let DeriveInput { ident, generics, .. } = parse_macro_input!(input as DeriveInput);
    let (impl_generics, ty_generics, where_clause) = generics.split_for_impl();
    quote! {
        impl #impl_generics ::moonbox::UserData for #ident #ty_generics #where_clause {}
    }
    .into()
}
