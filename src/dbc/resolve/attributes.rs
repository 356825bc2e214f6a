//! Attribute definitions, their defaults and their values, checked against
//! each other and attached to their objects.
//!
//! Accepted with a warning (the meaning is clear): a default or value whose
//! literal does not match the definition's type but converts exactly (an INT
//! written `100.0` or `"100"`, a FLOAT written as a string, an ENUM default
//! given as an index or an ENUM value given as its label), a value outside the
//! definition's range, a value for an attribute no `BA_DEF_` defines (kept as
//! written), a definition or a value given twice (the later wins).
//! The conversion of one literal to its definition's type is in
//! [`super::attribute_value`].

use std::collections::{HashMap, HashSet};

use super::attribute_value::{Role, convert, literal};
use super::index::{MessageIndex, MessageLookup, NameIndex};
use crate::dbc::model::{Attribute, AttributeDefinition, AttributeKind, AttributeScope, Dbc, RelationAttribute};
use crate::dbc::notes::Note;
use crate::dbc::parser::context::Ctx;
use crate::dbc::parser::statement::{
    Located, ObjectRef, RawAttributeDefault, RawAttributeDefinition, RawAttributeValue, RawRelationValue,
};

/// Definitions by name, then scope (looked up without allocating), and the
/// labels of large ENUMs as sets, so that checking a label is O(1).
#[derive(Debug, Default)]
pub(crate) struct DefinitionIndex {
    by_name: HashMap<String, Vec<(AttributeScope, usize)>>,
    large_enum_labels: HashMap<usize, HashSet<String>>,
}

/// ENUMs with more labels than this get a label set.
const LINEAR_LABEL_LOOKUP: usize = 32;

impl DefinitionIndex {
    /// The index in `Dbc::attribute_definitions` of `name` for `scope`.
    fn position(&self, scope: AttributeScope, name: &str) -> Option<usize> {
        self.by_name.get(name)?.iter().find(|(s, _)| *s == scope).map(|&(_, i)| i)
    }

    /// True when `text` is a label of the ENUM definition at `index`.
    fn has_label(&self, index: usize, definition: &AttributeDefinition, text: &str) -> bool {
        match (self.large_enum_labels.get(&index), &definition.kind) {
            (Some(set), _) => set.contains(text),
            (None, AttributeKind::Enum(labels)) => labels.iter().any(|l| l == text),
            (None, _) => false,
        }
    }
}

/// Records `BA_DEF_`/`BA_DEF_REL_` and applies `BA_DEF_DEF_`/`BA_DEF_DEF_REL_`.
pub(crate) fn definitions(
    cx: &Ctx<'_>,
    dbc: &mut Dbc,
    definitions: Vec<Located<RawAttributeDefinition>>,
    defaults: Vec<Located<RawAttributeDefault>>,
) -> DefinitionIndex {
    let mut index = DefinitionIndex::default();
    for definition in definitions {
        let RawAttributeDefinition { scope, name, kind } = definition.item;
        match index.position(scope, &name).and_then(|i| dbc.attribute_definitions.get_mut(i)) {
            Some(existing) => {
                cx.note(Note::warning(
                    definition.offset,
                    format!(
                        "attribute `{name}` is defined twice for {}; the later definition replaces the earlier",
                        scope_name(scope)
                    ),
                ));
                existing.kind = kind;
            }
            None => {
                index.by_name.entry(name.clone()).or_default().push((scope, dbc.attribute_definitions.len()));
                dbc.attribute_definitions.push(AttributeDefinition { scope, name, kind, default: None });
            }
        }
    }
    for (i, definition) in dbc.attribute_definitions.iter().enumerate() {
        if let AttributeKind::Enum(labels) = &definition.kind
            && labels.len() > LINEAR_LABEL_LOOKUP
        {
            index.large_enum_labels.insert(i, labels.iter().cloned().collect());
        }
    }
    for default in defaults {
        let RawAttributeDefault { relation, name, value } = default.item;
        let targets: Vec<usize> = index
            .by_name
            .get(&name)
            .map(|all| all.iter().filter(|(scope, _)| is_relation(*scope) == relation).map(|&(_, i)| i).collect())
            .unwrap_or_default();
        if targets.is_empty() {
            let stmt = if relation { "BA_DEF_DEF_REL_" } else { "BA_DEF_DEF_" };
            cx.note(Note::warning(
                default.offset,
                format!("`{stmt}` for `{name}`, which no definition defines; ignored"),
            ));
            continue;
        }
        for target in targets {
            let Some(definition) = dbc.attribute_definitions.get(target) else { continue };
            let converted = convert(cx, definition, &|t| index.has_label(target, definition, t), &value, Role::Default);
            if let Some(definition) = dbc.attribute_definitions.get_mut(target) {
                if definition.default.is_some() {
                    cx.note(Note::warning(
                        default.offset,
                        format!("default of attribute `{name}` is given twice; the later wins"),
                    ));
                }
                definition.default = Some(converted);
            }
        }
    }
    index
}

/// An object holding attributes, for the "set twice" check.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum ObjectKey {
    Network,
    Node(usize),
    Message(usize),
    Signal(usize, usize),
    EnvironmentVariable(usize),
}

/// An attribute set on an object: by definition (no copy of the name) or,
/// for attributes no `BA_DEF_` defines, by name.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum AttributeKey {
    Defined(usize),
    Undefined(String),
}

/// Attaches every `BA_` value to its object.
pub(crate) fn values(
    cx: &Ctx<'_>,
    dbc: &mut Dbc,
    definitions: &DefinitionIndex,
    messages: &mut MessageIndex,
    nodes: &NameIndex,
    variables: &NameIndex,
    values: Vec<Located<RawAttributeValue>>,
) {
    // (object, attribute) -> position in the object's attribute list.
    let mut seen: HashMap<(ObjectKey, AttributeKey), usize> = HashMap::with_capacity(values.len());
    for value in values {
        let RawAttributeValue { name, target, value: raw } = value.item;
        let (scope, key) = match &target {
            ObjectRef::Network => (AttributeScope::Network, Some(ObjectKey::Network)),
            ObjectRef::Node(node) => {
                let key = nodes.get(&node.item).map(ObjectKey::Node);
                if key.is_none() {
                    cx.note(Note::warning(
                        node.offset,
                        format!("`BA_ \"{}\"` for node `{}`, which `BU_` does not list; ignored", name.item, node.item),
                    ));
                }
                (AttributeScope::Node, key)
            }
            ObjectRef::Message(m) => {
                let key = match messages.message(m.raw) {
                    MessageLookup::Found(i) => Some(ObjectKey::Message(i)),
                    MessageLookup::LeftOut => None,
                    MessageLookup::Missing => {
                        cx.note(Note::warning(
                            m.offset,
                            format!("`BA_ \"{}\"` for message {}, which no `BO_` defines; ignored", name.item, m.raw),
                        ));
                        None
                    }
                };
                (AttributeScope::Message, key)
            }
            ObjectRef::Signal(m, signal) => {
                let key = match messages.message(m.raw) {
                    MessageLookup::Found(i) => match messages.signal(&dbc.messages, i, &signal.item) {
                        Some(s) => Some(ObjectKey::Signal(i, s)),
                        None => {
                            cx.note(Note::warning(
                                signal.offset,
                                format!(
                                    "`BA_ \"{}\"` for signal `{}`, which message {} does not have; ignored",
                                    name.item, signal.item, m.raw
                                ),
                            ));
                            None
                        }
                    },
                    MessageLookup::LeftOut => None,
                    MessageLookup::Missing => {
                        cx.note(Note::warning(
                            m.offset,
                            format!("`BA_ \"{}\"` for message {}, which no `BO_` defines; ignored", name.item, m.raw),
                        ));
                        None
                    }
                };
                (AttributeScope::Signal, key)
            }
            ObjectRef::EnvironmentVariable(var) => {
                let key = variables.get(&var.item).map(ObjectKey::EnvironmentVariable);
                if key.is_none() {
                    cx.note(Note::warning(
                        var.offset,
                        format!(
                            "`BA_ \"{}\"` for environment variable `{}`, which no `EV_` defines; ignored",
                            name.item, var.item
                        ),
                    ));
                }
                (AttributeScope::EnvironmentVariable, key)
            }
        };
        let Some(key) = key else { continue };
        let found = definitions.position(scope, &name.item).and_then(|i| Some((i, dbc.attribute_definitions.get(i)?)));
        let converted = match found {
            Some((i, definition)) => {
                convert(cx, definition, &|t| definitions.has_label(i, definition, t), &raw, Role::Value)
            }
            None => {
                cx.note(Note::warning(
                    name.offset,
                    format!(
                        "attribute `{}` is not defined for {} (no `BA_DEF_`); its value is kept as written",
                        name.item,
                        scope_name(scope)
                    ),
                ));
                literal(&raw.item)
            }
        };
        let attribute_key = match found {
            Some((i, _)) => AttributeKey::Defined(i),
            None => AttributeKey::Undefined(name.item.clone()),
        };
        let previous = seen.get(&(key, attribute_key.clone())).copied();
        if previous.is_some() {
            cx.note(Note::warning(
                value.offset,
                format!("attribute `{}` is set twice on the same object; the later value wins", name.item),
            ));
        }
        let list = match key {
            ObjectKey::Network => Some(&mut dbc.attributes),
            ObjectKey::Node(i) => dbc.nodes.get_mut(i).map(|n| &mut n.attributes),
            ObjectKey::Message(i) => dbc.messages.get_mut(i).map(|m| &mut m.attributes),
            ObjectKey::Signal(i, s) => {
                dbc.messages.get_mut(i).and_then(|m| m.signals.get_mut(s)).map(|s| &mut s.attributes)
            }
            ObjectKey::EnvironmentVariable(i) => dbc.environment_variables.get_mut(i).map(|v| &mut v.attributes),
        };
        let Some(list) = list else { continue };
        let attribute = Attribute { name: name.item, value: converted };
        match previous.and_then(|p| list.get_mut(p)) {
            Some(existing) => *existing = attribute,
            None => {
                seen.insert((key, attribute_key), list.len());
                list.push(attribute);
            }
        }
    }
}

/// Records every `BA_REL_` value, checking its node, message and object.
pub(crate) fn relation_values(
    cx: &Ctx<'_>,
    dbc: &mut Dbc,
    definitions: &DefinitionIndex,
    messages: &mut MessageIndex,
    nodes: &NameIndex,
    variables: &NameIndex,
    values: Vec<Located<RawRelationValue>>,
) {
    for value in values {
        let RawRelationValue { name, scope, node, message, object, value: raw } = value.item;
        if nodes.get(&node.item).is_none() {
            cx.note(Note::warning(
                node.offset,
                format!("`BA_REL_ \"{}\"` names node `{}`, which `BU_` does not list", name.item, node.item),
            ));
        }
        let message_id = match message {
            Some(m) => match messages.message(m.raw) {
                MessageLookup::Found(i) => {
                    if let Some(signal) = object.as_ref().filter(|_| scope == AttributeScope::NodeSignal)
                        && messages.signal(&dbc.messages, i, &signal.item).is_none()
                    {
                        cx.note(Note::warning(
                            signal.offset,
                            format!(
                                "`BA_REL_ \"{}\"` for signal `{}`, which message {} does not have; ignored",
                                name.item, signal.item, m.raw
                            ),
                        ));
                        continue;
                    }
                    dbc.messages.get(i).map(|m| m.id)
                }
                MessageLookup::LeftOut => continue,
                MessageLookup::Missing => {
                    cx.note(Note::warning(
                        m.offset,
                        format!("`BA_REL_ \"{}\"` for message {}, which no `BO_` defines; ignored", name.item, m.raw),
                    ));
                    continue;
                }
            },
            None => None,
        };
        if scope == AttributeScope::NodeEnvironmentVariable
            && let Some(var) = object.as_ref().filter(|v| variables.get(&v.item).is_none())
        {
            cx.note(Note::warning(
                var.offset,
                format!(
                    "`BA_REL_ \"{}\"` for environment variable `{}`, which no `EV_` defines; ignored",
                    name.item, var.item
                ),
            ));
            continue;
        }
        let found = definitions.position(scope, &name.item).and_then(|i| Some((i, dbc.attribute_definitions.get(i)?)));
        let converted = match found {
            Some((i, definition)) => {
                convert(cx, definition, &|t| definitions.has_label(i, definition, t), &raw, Role::Value)
            }
            None => {
                cx.note(Note::warning(
                    name.offset,
                    format!(
                        "attribute `{}` is not defined for {} (no `BA_DEF_REL_`); its value is kept as written",
                        name.item,
                        scope_name(scope)
                    ),
                ));
                literal(&raw.item)
            }
        };
        dbc.relation_attributes.push(RelationAttribute {
            name: name.item,
            scope,
            node: node.item,
            message_id,
            object: object.map(|o| o.item),
            value: converted,
        });
    }
}

/// True for the relation scopes (`BA_DEF_REL_`).
fn is_relation(scope: AttributeScope) -> bool {
    matches!(scope, AttributeScope::NodeMessage | AttributeScope::NodeSignal | AttributeScope::NodeEnvironmentVariable)
}

/// How a scope is named in messages.
fn scope_name(scope: AttributeScope) -> &'static str {
    match scope {
        AttributeScope::Network => "the network",
        AttributeScope::Node => "nodes (`BU_`)",
        AttributeScope::Message => "messages (`BO_`)",
        AttributeScope::Signal => "signals (`SG_`)",
        AttributeScope::EnvironmentVariable => "environment variables (`EV_`)",
        AttributeScope::NodeEnvironmentVariable => "node-variable relations (`BU_EV_REL_`)",
        AttributeScope::NodeMessage => "node-message relations (`BU_BO_REL_`)",
        AttributeScope::NodeSignal => "node-signal relations (`BU_SG_REL_`)",
    }
}
