//! Environment variables: `EV_` and `ENVVAR_DATA_` (also written `EV_DATA_`).
//!
//! `EV_ name : type [min|max] "unit" initial id access_type node, node ;`.
//! `ENVVAR_DATA_ name : size ;` has no place in the model; it is checked and
//! dropped.

use super::context::Ctx;
use super::lexical::{Input, PResult, end_of_statement, name, number, string, symbol, unsigned, unsigned32};
use super::message_extra::name_list;
use super::statement::{Located, Statement};
use super::syntax_error::fail;
use crate::dbc::model::EnvironmentVariable;

/// `EV_ ...;`, after the keyword.
pub(crate) fn environment_variable<'a>(cx: &Ctx<'_>, i: Input<'a>, keyword_offset: usize) -> PResult<'a, Statement> {
    let (i, var_name) = name(cx, i, "expected the variable name after `EV_`")?;
    let (i, ()) = symbol(i, b':', "expected `:` after the variable name in `EV_`")?;
    let (i, var_type) = unsigned32(i, "expected the variable type (0 integer, 1 float, 2 string) after `:` in `EV_`")?;
    let (i, ()) = symbol(i, b'[', "expected `[` and the minimum after the type in `EV_`")?;
    let (i, min) = number(cx, i, "expected the minimum (a number) after `[` in `EV_`")?;
    let (i, ()) = symbol(i, b'|', "expected `|` between the minimum and the maximum in `EV_`")?;
    let (i, max) = number(cx, i, "expected the maximum (a number) after `|` in `EV_`")?;
    let (i, ()) = symbol(i, b']', "expected `]` after the maximum in `EV_`")?;
    let (i, unit) = string(cx, i, "expected the unit (in quotes) after `[min|max]` in `EV_`")?;
    let (i, initial) = number(cx, i, "expected the initial value (a number) after the unit in `EV_`")?;
    let (i, id) = unsigned(i, "expected the variable id (a number) after the initial value in `EV_`")?;
    let (i, access_type) = name(cx, i, "expected the access type (`DUMMY_NODE_VECTOR0`...) after the id in `EV_`")?;
    let (i, access_nodes) = name_list(cx, i, "expected a node name after `,` in `EV_`")?;
    if access_nodes.is_empty() {
        return Err(fail(i, "expected the nodes with access (or `Vector__XXX`) after the access type in `EV_`"));
    }
    let (i, ()) = end_of_statement(cx, i, "EV_")?;
    let variable = EnvironmentVariable {
        name: var_name,
        var_type,
        min,
        max,
        unit,
        initial,
        id,
        access_type,
        access_nodes,
        comment: None,
        value_descriptions: Vec::new(),
        attributes: Vec::new(),
    };
    Ok((i, Statement::EnvironmentVariable(Box::new(Located::new(keyword_offset, variable)))))
}

/// `ENVVAR_DATA_ name : size ;` (or `EV_DATA_`), after the keyword; checked and dropped.
pub(crate) fn environment_data<'a>(cx: &Ctx<'_>, i: Input<'a>, stmt: &'static str) -> PResult<'a, Statement> {
    let (i, _) = name(cx, i, "expected the variable name after `ENVVAR_DATA_`")?;
    let (i, ()) = symbol(i, b':', "expected `:` after the variable name in `ENVVAR_DATA_`")?;
    let (i, _) = unsigned(i, "expected the data size (a number) after `:` in `ENVVAR_DATA_`")?;
    let (i, ()) = end_of_statement(cx, i, stmt)?;
    Ok((i, Statement::Skipped))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dbc::notes::NoteSink;

    #[test]
    fn environment_variable_in_full() {
        let src = b"EV_ EMC_Azimuth: 1 [-180|400] \"deg\" 0 12 DUMMY_NODE_VECTOR0 Vector__XXX, ECU;";
        let sink = NoteSink::default();
        let cx = Ctx::new(src, &sink);
        let Ok((rest, Statement::EnvironmentVariable(v))) = environment_variable(&cx, &src[3..], 0) else { panic!() };
        assert!(rest.is_empty());
        let v = v.item;
        assert_eq!(
            (v.name.as_str(), v.var_type, v.min, v.max, v.unit.as_str()),
            ("EMC_Azimuth", 1, -180.0, 400.0, "deg")
        );
        assert_eq!((v.initial, v.id, v.access_type.as_str()), (0.0, 12, "DUMMY_NODE_VECTOR0"));
        assert_eq!(v.access_nodes, ["Vector__XXX", "ECU"]);
    }

    #[test]
    fn environment_data_is_checked() {
        let sink = NoteSink::default();
        let src = b"ENVVAR_DATA_ SomeEnvVarData: 399;";
        let cx = Ctx::new(src, &sink);
        assert!(matches!(environment_data(&cx, &src[12..], "ENVVAR_DATA_"), Ok((_, Statement::Skipped))));
        let src = b"ENVVAR_DATA_ X 399;";
        let cx = Ctx::new(src, &sink);
        let Err(nom::Err::Failure(e)) = environment_data(&cx, &src[12..], "ENVVAR_DATA_") else { panic!() };
        assert_eq!(e.message, "expected `:` after the variable name in `ENVVAR_DATA_`");
    }
}
