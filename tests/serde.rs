//! The `serde` feature: `LuaSerdeExt`, `Serialize` for values, serializable userdata.

use moonbox::{Error, Lua, LuaSerdeExt, Result, Table, UserData, Value};
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
enum Gear {
    Manual,
    Auto(u8),
    Custom { name: String },
}

#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
struct Car {
    model: String,
    doors: u32,
    gear: Gear,
    tags: Vec<String>,
    spare: Option<bool>,
}

impl UserData for Car {}

#[test]
fn round_trip_through_lua() -> Result<()> {
    let lua = Lua::new();
    let car = Car {
        model: "Golf".into(),
        doors: 5,
        gear: Gear::Custom { name: "dsg".into() },
        tags: vec!["a".into(), "b".into()],
        spare: None,
    };
    let v = lua.to_value(&car)?;
    lua.globals().set("car", &v)?;
    assert_eq!(lua.load("car.model .. car.doors .. car.gear.Custom.name .. #car.tags").eval::<String>()?, "Golf5dsg2");
    // None is null; sequences carry the array metatable.
    assert!(lua.load("car.spare == nil").eval::<bool>().map(|b| !b)?);
    assert!(lua.load("getmetatable(car.tags) ~= nil").eval::<bool>()?);
    let back: Car = lua.from_value(v)?;
    assert_eq!(back, car);
    let g: Gear = lua.from_value(lua.load("'Manual'").eval()?)?;
    assert_eq!(g, Gear::Manual);
    let g: Gear = lua.from_value(lua.load("{ Auto = 6 }").eval()?)?;
    assert_eq!(g, Gear::Auto(6));
    let e = lua.from_value::<Car>(lua.load("{ model = 1 }").eval()?).unwrap_err();
    assert!(matches!(e, Error::DeserializeError(_)), "{e:?}");
    Ok(())
}

#[test]
fn values_serialize_as_json() -> Result<()> {
    let lua = Lua::new();
    lua.globals().set("null", lua.null())?;
    lua.globals().set("array_mt", lua.array_metatable())?;
    let v: Value =
        lua.load("{ list = {1, 2.5, 'x'}, empty = setmetatable({}, array_mt), none = null, t = true }").eval()?;
    let json = serde_json::to_value(&v).map_err(Error::external)?;
    assert_eq!(json, serde_json::json!({"list": [1, 2.5, "x"], "empty": [], "none": null, "t": true}));
    // Functions are refused unless asked otherwise.
    let f: Value = lua.load("{ f = print }").eval()?;
    assert!(serde_json::to_string(&f).is_err());
    let s = serde_json::to_string(&f.to_serializable().deny_unsupported_types(false)).map_err(Error::external)?;
    assert_eq!(s, "{}");
    // Recursive tables are refused.
    let r: Value = lua.load("local t = {} t.t = t return t").eval()?;
    assert!(serde_json::to_string(&r).is_err());
    // Sorted keys.
    let m: Value = lua.load("{ b = 1, a = 2, c = 3 }").eval()?;
    let s = serde_json::to_string(&m.to_serializable().sort_keys(true)).map_err(Error::external)?;
    assert_eq!(s, r#"{"a":2,"b":1,"c":3}"#);
    // JSON into Lua.
    let j = serde_json::json!({"k": "v", "n": null, "arr": [], "num": 3});
    lua.globals().set("j", lua.to_value(&j)?)?;
    assert!(lua.load("j.k == 'v' and j.n == null and #j.arr == 0 and j.num == 3").eval::<bool>()?);
    Ok(())
}

#[test]
fn serializable_userdata() -> Result<()> {
    let lua = Lua::new();
    let car = Car { model: "Up".into(), doors: 3, gear: Gear::Manual, tags: vec![], spare: Some(true) };
    lua.globals().set("car", lua.create_ser_userdata(car.clone())?)?;
    let v: Value = lua.load("{ car = car }").eval()?;
    let json = serde_json::to_value(&v).map_err(Error::external)?;
    assert_eq!(json["car"]["model"], "Up");
    assert_eq!(json["car"]["gear"], "Manual");
    // A plain userdata is not serializable.
    lua.globals().set("plain", car)?;
    let v: Value = lua.load("{ plain }").eval()?;
    assert!(serde_json::to_string(&v).is_err());
    // from_value reads a serializable userdata through its serialized form.
    let t: Table = lua.load("{ c = car }").eval()?;
    let back: Car = lua.from_value(t.get("c")?)?;
    assert_eq!(back.model, "Up");
    Ok(())
}
