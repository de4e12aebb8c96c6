// One setting of the engine's run-config schema (`ftstudio-cli train --schema`) as an
// editor widget: which widget each type gets, its value in and out as JSON, the
// comparison with the default, and the range/required check with a message.
// Not here: the form's layout, visibility rules or the config object (schema_form.h).
#pragma once

#include <QJsonObject>
#include <QJsonValue>
#include <QString>
#include <QStringList>

class QFormLayout;
class QLabel;
class QWidget;

namespace ft::ui {

struct SchemaField {
    QJsonObject spec;      // the schema entry: key, type, default, label, help, min, max, choices, applies_to
    QStringList keys;      // JSON path as keys: {"training", "optimizer", "lr"}
    QString path;          // the same joined by '.': "training.optimizer.lr"
    QString variant;       // the objective variant it belongs to ("dpo"), or "" for a common setting
    QString switchPath;    // the "name" choice that decides applies_to / variant: "technique.name"
    bool isSwitch = false; // this field is such a "name" choice
    QWidget* editor = nullptr;
    QLabel* label = nullptr;
    QFormLayout* form = nullptr;  // the layout holding its row

    QString type() const { return spec.value(QStringLiteral("type")).toString(); }
    bool required() const { return spec.value(QStringLiteral("required")).toBool(); }
    QJsonValue defaultValue() const { return spec.value(QStringLiteral("default")); }
    QStringList appliesTo() const;

    // The editor's value as JSON of the setting's type; Undefined when the text is not a
    // number (a number field being typed) or a required string is empty.
    QJsonValue value() const;
    // Sets the editor; returns "" or what was wrong with `v` (wrong type, out of range:
    // then the nearest value the editor can hold is shown).
    QString setValue(const QJsonValue& v);
    void resetToDefault();
    bool isDefault() const;
    // "" when the current value is acceptable, else e.g. "must be between 0 and 10, got 20".
    QString problem() const;
};

// The editor for a setting: QSpinBox (int), a scientific-notation QLineEdit (number:
// 2e-4 stays readable), QCheckBox (bool), QComboBox (choice, and int with choices),
// QLineEdit (string), QPlainTextEdit, one item per line (string list).
QWidget* createSchemaEditor(const QJsonObject& spec, QWidget* parent);
// Rich-text tooltip: label, JSON path, help, default, range, choices, applies_to.
QString schemaTooltip(const QJsonObject& spec, const QString& path);
// "0.0002", "1e-08", "16": short and exact enough for the schema's numbers.
QString formatNumber(double v);

} // namespace ft::ui
