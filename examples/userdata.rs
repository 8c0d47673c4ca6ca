//! A Rust type used from Lua: methods, fields and metamethods.
//!
//! Run with `cargo run --example userdata`.

use moonbox::{AnyUserData, Lua, MetaMethod, Result, UserData, UserDataFields, UserDataMethods};

/// A 2-D vector.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Vec2 {
    x: f64,
    y: f64,
}

impl UserData for Vec2 {
    fn add_fields<F: UserDataFields<Self>>(fields: &mut F) {
        fields.add_field_method_get("x", |_, v| Ok(v.x));
        fields.add_field_method_get("y", |_, v| Ok(v.y));
        fields.add_field_method_set("x", |_, v, x: f64| {
            v.x = x;
            Ok(())
        });
        fields.add_field_method_set("y", |_, v, y: f64| {
            v.y = y;
            Ok(())
        });
    }

    fn add_methods<M: UserDataMethods<Self>>(methods: &mut M) {
        methods.add_method("length", |_, v, ()| Ok(v.x.hypot(v.y)));
        methods.add_method("dot", |_, v, other: AnyUserData| {
            let o = other.borrow::<Vec2>()?;
            Ok(v.x * o.x + v.y * o.y)
        });
        methods.add_method_mut("normalize", |_, v, ()| {
            let len = v.x.hypot(v.y);
            if len > 0.0 {
                v.x /= len;
                v.y /= len;
            }
            Ok(())
        });
        // Operators. `+` takes both operands (either could be the userdata).
        methods.add_meta_function(MetaMethod::Add, |_, (a, b): (AnyUserData, AnyUserData)| {
            let (a, b) = (*a.borrow::<Vec2>()?, *b.borrow::<Vec2>()?);
            Ok(Vec2 { x: a.x + b.x, y: a.y + b.y })
        });
        // `v * k` and `k * v`.
        methods.add_meta_function(MetaMethod::Mul, |lua, (a, b): (moonbox::Value, moonbox::Value)| {
            let (v, k) = match (&a, &b) {
                (moonbox::Value::UserData(u), moonbox::Value::Number(k)) => (*u.borrow::<Vec2>()?, *k),
                (moonbox::Value::Number(k), moonbox::Value::UserData(u)) => (*u.borrow::<Vec2>()?, *k),
                _ => return Err(moonbox::Error::runtime("Vec2 can only be multiplied by a number")),
            };
            lua.create_userdata(Vec2 { x: v.x * k, y: v.y * k })
        });
        methods.add_meta_method(MetaMethod::Unm, |_, v, ()| Ok(Vec2 { x: -v.x, y: -v.y }));
        methods.add_meta_method(MetaMethod::Eq, |_, v, other: AnyUserData| Ok(*v == *other.borrow::<Vec2>()?));
        methods.add_meta_method(MetaMethod::ToString, |_, v, ()| Ok(format!("Vec2({}, {})", v.x, v.y)));
    }
}

fn main() -> Result<()> {
    let lua = Lua::new();

    // A constructor in a global table.
    let vec2 = lua.create_table()?;
    vec2.set("new", lua.create_function(|_, (x, y): (f64, f64)| Ok(Vec2 { x, y }))?)?;
    lua.globals().set("Vec2", vec2)?;

    lua.load(
        r#"
        local a = Vec2.new(3, 4)
        local b = Vec2.new(1, 2)
        print("a =", a, "|a| =", a:length())
        print("a + b =", a + b)
        print("2 * b =", 2 * b, "b * 2 =", b * 2, "-b =", -b)
        print("a . b =", a:dot(b))
        print("a == Vec2.new(3, 4):", a == Vec2.new(3, 4))
        a.x = 6
        a:normalize()
        print("normalized:", a, "x field:", a.x)
        local ok, err = pcall(function() return a * "x" end)
        print("a * 'x' fails:", err)
        position = Vec2.new(10, 20)
        "#,
    )
    .set_name("=demo")
    .exec()?;

    // Rust sees (and can mutate) the same value.
    let pos: AnyUserData = lua.globals().get("position")?;
    pos.borrow_mut::<Vec2>()?.y += 0.5;
    println!("from Rust: {:?}", *pos.borrow::<Vec2>()?);
    let s: String = lua.load("tostring(position)").eval()?;
    println!("from Lua again: {s}");
    Ok(())
}
