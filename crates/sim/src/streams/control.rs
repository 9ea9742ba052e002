//! The live-subscription messages every stream connection takes, and Binance's replies.
//!
//! CONTRACT.md does not spell these out; the shapes follow Binance's "Live Subscribing /
//! Unsubscribing to streams" docs: `{"method":"SUBSCRIBE","params":[…],"id":1}` answered by
//! `{"result":null,"id":1}`, and errors as `{"code":N,"msg":"…","id":…}` with code 0 for an
//! unknown property, 1 for a wrong value type, 2 for an invalid request and 3 for bad JSON.

use serde_json::{Value, json};

/// The most streams one connection may carry (CONTRACT.md §1 "Stream rules").
pub const MAX_STREAMS: usize = 200;

/// One parsed control message.
#[derive(Debug)]
enum Method {
    Subscribe(Vec<String>),
    Unsubscribe(Vec<String>),
    List,
    SetCombined(bool),
    GetCombined,
}

/// A connection's subscriptions in the order they were made, each with what it resolved to.
#[derive(Debug)]
pub struct Subscriptions<T> {
    /// `(stream name, resolved stream)`.
    pub items: Vec<(String, T)>,
    /// Whether messages go out wrapped as `{stream, data}`.
    pub combined: bool,
}

impl<T> Subscriptions<T> {
    /// A connection that starts with `items`.
    pub fn new(items: Vec<(String, T)>, combined: bool) -> Self {
        Self { items, combined }
    }

    /// The outgoing frame for `data` of stream `name`, wrapped when the connection is combined.
    pub fn frame(&self, name: &str, data: Value) -> String {
        if self.combined {
            json!({"stream": name, "data": data}).to_string()
        } else {
            data.to_string()
        }
    }

    /// Applies one incoming text message and returns the reply to send. `resolve` checks a
    /// stream name; a request with any bad name changes nothing.
    pub fn apply(&mut self, text: &str, resolve: impl Fn(&str) -> Result<T, String>) -> Value {
        let (id, method) = match parse(text) {
            Ok(v) => v,
            Err(reply) => return reply,
        };
        match method {
            Method::Subscribe(names) => {
                let mut added = Vec::new();
                for name in names {
                    if self.items.iter().any(|(n, _)| *n == name)
                        || added.iter().any(|(n, _)| *n == name)
                    {
                        continue;
                    }
                    match resolve(&name) {
                        Ok(stream) => added.push((name, stream)),
                        Err(why) => return error(2, &format!("Invalid request: {why}"), &id),
                    }
                }
                if self.items.len() + added.len() > MAX_STREAMS {
                    return error(
                        2,
                        &format!(
                            "Invalid request: more than {MAX_STREAMS} streams on one connection"
                        ),
                        &id,
                    );
                }
                self.items.extend(added);
                json!({"result": null, "id": id})
            }
            Method::Unsubscribe(names) => {
                self.items.retain(|(n, _)| !names.contains(n));
                json!({"result": null, "id": id})
            }
            Method::List => {
                let names: Vec<&str> = self.items.iter().map(|(n, _)| n.as_str()).collect();
                json!({"result": names, "id": id})
            }
            Method::SetCombined(on) => {
                self.combined = on;
                json!({"result": null, "id": id})
            }
            Method::GetCombined => json!({"result": self.combined, "id": id}),
        }
    }
}

fn error(code: i64, msg: &str, id: &Value) -> Value {
    if id.is_null() {
        json!({"code": code, "msg": msg})
    } else {
        json!({"code": code, "msg": msg, "id": id})
    }
}

/// Whether `id` may correlate a request with its reply: null, an unsigned integer (the futures
/// docs' form) or a string of at most 36 letters, digits and hyphens. Binance's own SDK for
/// USDⓈ-M futures (`binance-sdk-derivatives-trading-usds-futures`) sends a UUID string, and
/// Binance's newer stream docs accept "alphanumeric string; max length 36".
fn valid_id(id: &Value) -> bool {
    match id {
        Value::Null => true,
        Value::Number(n) => n.is_u64(),
        Value::String(s) => {
            s.len() <= 36 && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        }
        _ => false,
    }
}

fn parse(text: &str) -> Result<(Value, Method), Value> {
    let v: Value = serde_json::from_str(text)
        .map_err(|e| error(3, &format!("Invalid JSON: {e}"), &Value::Null))?;
    let Some(obj) = v.as_object() else {
        return Err(error(
            2,
            "Invalid request: expected a JSON object",
            &Value::Null,
        ));
    };
    let id = obj.get("id").cloned().unwrap_or(Value::Null);
    if !valid_id(&id) {
        return Err(error(
            2,
            "Invalid request: request ID must be an unsigned integer or a string of at most 36 characters",
            &Value::Null,
        ));
    }
    let Some(method) = obj.get("method") else {
        return Err(error(2, "Invalid request: missing field `method`", &id));
    };
    let params = obj.get("params");
    let names = || -> Result<Vec<String>, Value> {
        match params {
            Some(Value::Array(items)) => items
                .iter()
                .map(|p| {
                    p.as_str().map(str::to_owned).ok_or_else(|| {
                        error(2, "Invalid request: stream names must be strings", &id)
                    })
                })
                .collect(),
            _ => Err(error(
                2,
                "Invalid request: params must be an array of stream names",
                &id,
            )),
        }
    };
    let property = |with_value: bool| -> Result<Method, Value> {
        let Some(Value::Array(items)) = params else {
            return Err(error(2, "Invalid request: params must be an array", &id));
        };
        let want = if with_value { 2 } else { 1 };
        if items.len() > want {
            return Err(error(2, "Invalid request: too many parameters", &id));
        }
        let Some(name) = items.first().and_then(Value::as_str) else {
            return Err(error(
                2,
                "Invalid request: property name must be a string",
                &id,
            ));
        };
        if name != "combined" {
            return Err(error(0, "Unknown property", &id));
        }
        if !with_value {
            return Ok(Method::GetCombined);
        }
        match items.get(1).and_then(Value::as_bool) {
            Some(on) => Ok(Method::SetCombined(on)),
            None => Err(error(1, "Invalid value type: expected Boolean", &id)),
        }
    };
    let method = match method.as_str() {
        Some("SUBSCRIBE") => Method::Subscribe(names()?),
        Some("UNSUBSCRIBE") => Method::Unsubscribe(names()?),
        Some("LIST_SUBSCRIPTIONS") => Method::List,
        Some("SET_PROPERTY") => property(true)?,
        Some("GET_PROPERTY") => property(false)?,
        other => {
            return Err(error(
                2,
                &format!(
                    "Invalid request: unknown variant `{}`, expected one of `SUBSCRIBE`, \
                     `UNSUBSCRIBE`, `LIST_SUBSCRIPTIONS`, `SET_PROPERTY`, `GET_PROPERTY`",
                    other.map_or_else(|| method.to_string(), str::to_owned)
                ),
                &id,
            ));
        }
    };
    Ok((id, method))
}
