// The Data page's columns for each dataset kind, and the conversions between a row and
// the text a person reads and edits in a cell: a one-line summary for the table, the
// full text for the side editor, and applying an edited text back onto a row (throws
// ft::Error naming the column when the text cannot be a value of it).
// Not here: the store (row_table_model.h), widgets.
#pragma once

#include "data/records.h"

#include <QString>
#include <QStringList>

#include <string>
#include <vector>

namespace ft::ui {

enum class RowColumnKind { Id, Field, Split, Tags, Notes, Label };

struct RowColumn {
    RowColumnKind kind = RowColumnKind::Field;
    std::string field;          // the key in Row::fields (Field columns)
    QString title;
    bool optional = false;      // an empty text removes the field
    bool boolean = false;       // shown as a checkbox (unpaired "desirable")
    bool json = false;          // edited as JSON (chat messages, verifier settings)
    int width = 0;              // preferred width in pixels; 0 = share the rest
};

// id, then the kind's fields in their natural order, then split, tags, notes
// (preference rows: label before split).
std::vector<RowColumn> columnsFor(ft::data::DatasetKind kind);

// The cell's whole text (what the side editor shows): strings as they are, message
// lists as "role: text" lines in the table and JSON for editing, tags comma separated.
QString cellText(const ft::data::Row& row, const RowColumn& column);
QString editText(const ft::data::Row& row, const RowColumn& column);
// One line for the table: newlines shown as " ⏎ ", cut at `maxChars` (the view elides the rest).
QString summaryText(const QString& full, int maxChars = 240);
// Whether in-place editing in a line edit would lose something (multi-line text, JSON).
bool needsSideEditor(const ft::data::Row& row, const RowColumn& column);

// Applies `text` to `row` for `column`; throws ft::Error naming the column when the
// text is not a value it can hold (malformed JSON, unknown split, ...). The kind's field
// rules are checked by the store when the row is written.
void applyEditText(ft::data::Row& row, const RowColumn& column, const QString& text);
void applyBoolean(ft::data::Row& row, const RowColumn& column, bool value);

// "a, b ,c" -> {"a", "b", "c"}: trimmed, blanks and repeats dropped.
std::vector<std::string> parseTags(const QString& text);

// A valid new row for `kind`, with placeholder texts to overwrite (the store refuses
// empty required fields).
ft::data::Row placeholderRow(ft::data::DatasetKind kind);

// The names shown in the split and label choices.
QStringList splitNames();
QStringList labelNames();

} // namespace ft::ui
