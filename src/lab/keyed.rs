//! A part held as a map by name (servers, links, SQL instances): it
//! serializes as the bare map, so the lab file keeps its shape and old files
//! still load, and it reads like the map (`lab.sql["pcsql-dub1"]`), while
//! the part's own rules are methods on its type.

/// Declare `$name`, a transparent map of `$item` by name.
macro_rules! keyed_part {
    ($(#[$doc:meta])* $name:ident, $item:ty) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(std::collections::BTreeMap<String, $item>);

        impl std::ops::Deref for $name {
            type Target = std::collections::BTreeMap<String, $item>;
            fn deref(&self) -> &Self::Target {
                &self.0
            }
        }

        impl std::ops::DerefMut for $name {
            fn deref_mut(&mut self) -> &mut Self::Target {
                &mut self.0
            }
        }

        impl FromIterator<(String, $item)> for $name {
            fn from_iter<I: IntoIterator<Item = (String, $item)>>(items: I) -> Self {
                $name(items.into_iter().collect())
            }
        }

        impl<'a> IntoIterator for &'a $name {
            type Item = (&'a String, &'a $item);
            type IntoIter = std::collections::btree_map::Iter<'a, String, $item>;
            fn into_iter(self) -> Self::IntoIter {
                self.0.iter()
            }
        }
    };
}

pub(in crate::lab) use keyed_part;
