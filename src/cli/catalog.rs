//! Builds the catalog of sources from the script's DDL and `--source` options.

use super::object_keys::{take_object_keys, NamedSource};
use crate::data::{Field, Schema};
use crate::error::{Error, Result};
use crate::plan::{Catalog, TableDef};
use crate::sql::{CreateSource, CreateView, Statement, StreamingQuery};
use std::path::Path;

/// The script split into its source declarations and its one query.
pub struct Script {
    pub sources: Vec<CreateSource>,
    pub query: StreamingQuery,
    /// Sources the query's Velostream-style WITH keys declare.
    pub named_sources: Vec<NamedSource>,
}

/// Separates DDL from the query; exactly one query is required. Views
/// become named queries the query may read.
pub fn split_script(statements: Vec<Statement>) -> Result<Script> {
    let mut sources = Vec::new();
    let mut views = Vec::new();
    let mut queries = Vec::new();
    for statement in statements {
        match statement {
            Statement::CreateSource(s) => sources.push(s),
            Statement::CreateView(v) => views.push(v),
            Statement::Query(q) => queries.push(q),
        }
    }
    check_view_names(&views, &sources)?;
    match queries.len() {
        1 => {
            let mut query = queries.remove(0);
            query.read_views(views);
            let named_sources = take_object_keys(&mut query)?;
            Ok(Script {
                sources,
                query,
                named_sources,
            })
        }
        0 => Err(Error::Usage(
            "the SQL script has no query: add a SELECT or CREATE STREAM .. AS SELECT".into(),
        )),
        n => Err(Error::plan(
            format!("the SQL script has {n} queries; corestream runs one query at a time"),
            Some(queries[1].location),
        )),
    }
}

/// A view's name must be new: not a source's, not an earlier view's.
fn check_view_names(views: &[CreateView], sources: &[CreateSource]) -> Result<()> {
    for (i, view) in views.iter().enumerate() {
        let name = &view.name.value;
        let source = sources.iter().any(|s| s.name.eq_ignore_ascii_case(name));
        let earlier = views[..i]
            .iter()
            .any(|v| v.name.value.eq_ignore_ascii_case(name));
        if source || earlier {
            let what = if source { "a source" } else { "another view" };
            return Err(Error::plan(
                format!("view {name} has the name of {what}: give it a name of its own"),
                Some(view.location),
            ));
        }
    }
    Ok(())
}

/// Makes the relative paths a script file names (its sources' 'path', its
/// stream's 'output' and 'dead_letter') relative to the script's directory
/// `dir` rather than to the working directory. Standard input (`-`) and
/// absolute paths stay as they are.
pub fn resolve_script_paths(script: &mut Script, dir: &Path) {
    for source in script.sources.iter_mut() {
        resolve_path_property(&mut source.properties, "path", dir);
    }
    for key in ["output", "dead_letter"] {
        resolve_path_property(&mut script.query.properties, key, dir);
    }
    for source in script.named_sources.iter_mut() {
        let is_path = source_location_properties(&source.location)
            .is_ok_and(|properties| properties.iter().any(|(key, _)| key == "path"));
        if is_path {
            resolve_path(&mut source.location, dir);
        }
    }
}

fn resolve_path_property(properties: &mut [(String, String)], key: &str, dir: &Path) {
    for (_, value) in properties.iter_mut().filter(|(k, _)| k == key) {
        resolve_path(value, dir);
    }
}

/// A relative path made relative to `dir`; standard input (`-`) and
/// absolute paths stay as they are.
fn resolve_path(value: &mut String, dir: &Path) {
    let path = Path::new(value.as_str());
    if value != "-" && path.is_relative() {
        *value = dir.join(path).to_string_lossy().into_owned();
    }
}

/// `--source NAME=PATH` and `--source-option NAME.KEY=VALUE`, parsed.
#[derive(Debug, Default)]
pub struct SourceOverrides {
    pub paths: Vec<(String, String)>,
    pub options: Vec<(String, String, String)>,
    /// `--follow`: every file source is followed (`'follow' = 'true'`).
    pub follow: bool,
}

impl SourceOverrides {
    pub fn parse(sources: &[String], options: &[String]) -> Result<Self> {
        let mut parsed = SourceOverrides::default();
        for source in sources {
            let (name, path) = split_pair(source, '=', "--source", "NAME=PATH")?;
            parsed.paths.push((name.to_string(), path.to_string()));
        }
        for option in options {
            let (key, value) = split_pair(option, '=', "--source-option", "NAME.KEY=VALUE")?;
            let (name, key) = split_pair(key, '.', "--source-option", "NAME.KEY=VALUE")?;
            parsed.options.push((
                name.to_string(),
                key.to_ascii_lowercase(),
                value.to_string(),
            ));
        }
        Ok(parsed)
    }

    /// Adds the sources a query's WITH keys declare; the command line's
    /// `--source` and `--source-option` win over them.
    pub fn add_named_sources(&mut self, named: &[NamedSource]) {
        for source in named {
            let given = self
                .paths
                .iter()
                .any(|(n, _)| n.eq_ignore_ascii_case(&source.name));
            if !given {
                self.paths
                    .push((source.name.clone(), source.location.clone()));
            }
        }
        let named_options = named.iter().flat_map(|source| {
            source
                .options
                .iter()
                .map(|(key, value)| (source.name.clone(), key.clone(), value.clone()))
        });
        let mut options: Vec<_> = named_options.collect();
        options.append(&mut self.options);
        self.options = options;
    }

    fn properties_for(&self, table: &str) -> Result<Vec<(String, String)>> {
        let mut properties = Vec::new();
        if let Some((_, path)) = self
            .paths
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(table))
        {
            properties.extend(source_location_properties(path)?);
        }
        for (name, key, value) in &self.options {
            if name.eq_ignore_ascii_case(table) {
                properties.push((key.clone(), value.clone()));
            }
        }
        Ok(properties)
    }

    /// With `--follow`, marks a file source (one with a `path`) as followed.
    fn follow_files(&self, properties: &mut Vec<(String, String)>) {
        let is_file = properties.iter().any(|(key, _)| key == "path");
        if self.follow && is_file {
            merge_properties(properties, vec![("follow".into(), "true".into())]);
        }
    }
}

/// `generator:trades` names a built-in generator, `kafka://HOST:PORT/TOPIC`
/// a Kafka topic; anything else is a path.
fn source_location_properties(path: &str) -> Result<Vec<(String, String)>> {
    if let Some(kafka) = crate::io::kafka::parse_kafka_url(path) {
        let (servers, topic) = kafka?;
        return Ok(vec![
            ("connector".to_string(), "kafka".to_string()),
            ("topic".to_string(), topic),
            ("properties.bootstrap.servers".to_string(), servers),
        ]);
    }
    Ok(vec![match path.strip_prefix("generator:") {
        Some(generator) => ("connector".to_string(), generator.to_string()),
        None => ("path".to_string(), path.to_string()),
    }])
}

fn split_pair<'a>(
    text: &'a str,
    separator: char,
    option: &str,
    form: &str,
) -> Result<(&'a str, &'a str)> {
    match text.split_once(separator) {
        Some((a, b)) if !a.trim().is_empty() && !b.is_empty() => Ok((a.trim(), b)),
        _ => Err(Error::Usage(format!(
            "{option} '{text}' is not of the form {form}"
        ))),
    }
}

/// Declared sources with command-line overrides merged in; sources named
/// only on the command line get their schema inferred from the file. Each
/// source's WITH properties, and the columns declared over a generator, are
/// checked here (a file's header is checked when the file is opened).
pub fn build_catalog(declared: &[CreateSource], overrides: &SourceOverrides) -> Result<Catalog> {
    let mut catalog = Catalog::default();
    for source in declared {
        let mut properties = source.properties.clone();
        merge_properties(&mut properties, overrides.properties_for(&source.name)?);
        overrides.follow_files(&mut properties);
        let schema = Schema::new(
            source
                .columns
                .iter()
                .map(|c| Field::new(c.name.clone(), c.data_type))
                .collect(),
        );
        let table = TableDef {
            name: source.name.clone(),
            schema,
            properties,
        };
        crate::io::check_table(&table)?;
        catalog.add(table);
    }
    for (name, _) in &overrides.paths {
        if catalog.get(name).is_none() {
            let mut properties = overrides.properties_for(name)?;
            overrides.follow_files(&mut properties);
            catalog.add(table_from_command_line(name, properties)?);
        }
    }
    Ok(catalog)
}

/// A source named only by `--source`: a generator has its own schema, a file's
/// schema is inferred from a sample of it.
fn table_from_command_line(name: &str, properties: Vec<(String, String)>) -> Result<TableDef> {
    let path = properties
        .iter()
        .find(|(k, _)| k == "path")
        .map(|(_, v)| v.clone());
    match path {
        Some(path) => crate::io::infer_table(name, &path, &properties),
        None => {
            let mut table = TableDef {
                name: name.to_string(),
                schema: Schema::default(),
                properties,
            };
            table.schema = crate::io::infer_schema(&table)?;
            Ok(table)
        }
    }
}

/// Later properties replace earlier ones with the same key.
fn merge_properties(properties: &mut Vec<(String, String)>, overrides: Vec<(String, String)>) {
    for (key, value) in overrides {
        properties.retain(|(k, _)| !k.eq_ignore_ascii_case(&key));
        // A command-line path replaces a declared generator and vice versa.
        if key == "path" {
            properties.retain(|(k, _)| k != "connector");
        } else if key == "connector" {
            properties.retain(|(k, _)| k != "path");
        }
        properties.push((key, value));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_overrides() {
        let o = SourceOverrides::parse(
            &["trades=data/t.csv".into(), "gen=generator:trades".into()],
            &["trades.delimiter=;".into()],
        )
        .unwrap();
        assert_eq!(
            o.properties_for("TRADES").unwrap(),
            vec![
                ("path".to_string(), "data/t.csv".to_string()),
                ("delimiter".to_string(), ";".to_string())
            ]
        );
        assert_eq!(
            o.properties_for("gen").unwrap(),
            vec![("connector".to_string(), "trades".to_string())]
        );
    }

    #[test]
    fn rejects_malformed_overrides() {
        let e = SourceOverrides::parse(&["trades".into()], &[]).unwrap_err();
        assert!(e
            .to_string()
            .contains("--source 'trades' is not of the form NAME=PATH"));
        let e = SourceOverrides::parse(&[], &["x=1".into()]).unwrap_err();
        assert!(e.to_string().contains("NAME.KEY=VALUE"));
    }

    #[test]
    fn script_paths_resolve_against_the_script_directory() {
        let sql = "CREATE TABLE a (x BIGINT) WITH ('path' = 'a.csv'); \
                   CREATE TABLE b (x BIGINT) WITH ('path' = '-'); \
                   CREATE TABLE c (x BIGINT) WITH ('path' = '/data/c.csv'); \
                   CREATE STREAM s AS SELECT x FROM a \
                   WITH ('output' = 'out/s.jsonl', 'dead_letter' = 'dead.jsonl')";
        let mut script = split_script(crate::sql::parse_sql(sql).unwrap()).unwrap();
        resolve_script_paths(&mut script, Path::new("jobs/daily"));
        let paths: Vec<&str> = script
            .sources
            .iter()
            .map(|s| s.properties[0].1.as_str())
            .collect();
        assert_eq!(paths, ["jobs/daily/a.csv", "-", "/data/c.csv"]);
        assert_eq!(
            script.query.properties,
            vec![
                ("output".to_string(), "jobs/daily/out/s.jsonl".to_string()),
                (
                    "dead_letter".to_string(),
                    "jobs/daily/dead.jsonl".to_string()
                )
            ]
        );
    }

    #[test]
    fn command_line_path_replaces_declared_one() {
        let mut p = vec![
            ("path".to_string(), "a.csv".to_string()),
            ("format".to_string(), "csv".to_string()),
        ];
        merge_properties(&mut p, vec![("path".into(), "b.csv".into())]);
        assert_eq!(p[0], ("format".to_string(), "csv".to_string()));
        assert_eq!(p[1], ("path".to_string(), "b.csv".to_string()));
    }
}
