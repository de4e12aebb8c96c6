#include "train/schema_field.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleValidator>
#include <QJsonArray>
#include <QLineEdit>
#include <QLocale>
#include <QPlainTextEdit>
#include <QSpinBox>

#include <climits>
#include <cmath>

namespace ft::ui {

namespace {

const QString kInt = QStringLiteral("int");
const QString kNumber = QStringLiteral("number");
const QString kBool = QStringLiteral("bool");
const QString kChoice = QStringLiteral("choice");
const QString kString = QStringLiteral("string");
const QString kStringList = QStringLiteral("string list");

bool hasChoices(const QJsonObject& spec) { return spec.value(QStringLiteral("choices")).isArray(); }

QStringList choicesOf(const QJsonObject& spec) {
    QStringList out;
    for (const QJsonValue& c : spec.value(QStringLiteral("choices")).toArray())
        out << (c.isString() ? c.toString() : formatNumber(c.toDouble()));
    return out;
}

QString rangeText(const QJsonObject& spec) {
    const bool hasMin = spec.contains(QStringLiteral("min")), hasMax = spec.contains(QStringLiteral("max"));
    const QString lo = formatNumber(spec.value(QStringLiteral("min")).toDouble());
    const QString hi = formatNumber(spec.value(QStringLiteral("max")).toDouble());
    if (hasMin && hasMax)
        return QStringLiteral("between %1 and %2").arg(lo, hi);
    if (hasMin)
        return QStringLiteral("at least %1").arg(lo);
    if (hasMax)
        return QStringLiteral("at most %1").arg(hi);
    return {};
}

bool inRange(const QJsonObject& spec, double v) {
    if (spec.contains(QStringLiteral("min")) && v < spec.value(QStringLiteral("min")).toDouble())
        return false;
    if (spec.contains(QStringLiteral("max")) && v > spec.value(QStringLiteral("max")).toDouble())
        return false;
    return true;
}

bool isIntegral(const QJsonValue& v) {
    return v.isDouble() && std::isfinite(v.toDouble()) && std::floor(v.toDouble()) == v.toDouble();
}

QStringList listFromJson(const QJsonValue& v) {
    QStringList out;
    if (v.isString())
        out << v.toString();  // the engine reads a single string as a one-item list
    for (const QJsonValue& x : v.toArray())
        out << x.toString();
    return out;
}

} // namespace

QString formatNumber(double v) { return QString::number(v, 'g', 10); }

QStringList SchemaField::appliesTo() const {
    QStringList out;
    for (const QJsonValue& v : spec.value(QStringLiteral("applies_to")).toArray())
        out << v.toString();
    return out;
}

QWidget* createSchemaEditor(const QJsonObject& spec, QWidget* parent) {
    const QString type = spec.value(QStringLiteral("type")).toString();
    if (type == kChoice || (type == kInt && hasChoices(spec))) {
        auto* combo = new QComboBox(parent);
        combo->addItems(choicesOf(spec));
        return combo;
    }
    if (type == kInt) {
        auto* spin = new QSpinBox(parent);
        const double lo = spec.contains(QStringLiteral("min")) ? spec.value(QStringLiteral("min")).toDouble() : INT_MIN;
        const double hi = spec.contains(QStringLiteral("max")) ? spec.value(QStringLiteral("max")).toDouble() : INT_MAX;
        spin->setRange(int(std::max<double>(lo, INT_MIN)), int(std::min<double>(hi, INT_MAX)));
        spin->setAccelerated(true);
        return spin;
    }
    if (type == kNumber) {
        auto* edit = new QLineEdit(parent);
        auto* validator = new QDoubleValidator(edit);  // format only: out-of-range values stay visible for validate()
        validator->setNotation(QDoubleValidator::ScientificNotation);
        validator->setLocale(QLocale::c());
        edit->setValidator(validator);
        return edit;
    }
    if (type == kBool)
        return new QCheckBox(parent);
    if (type == kStringList) {
        auto* edit = new QPlainTextEdit(parent);
        edit->setTabChangesFocus(true);
        edit->setPlaceholderText(QStringLiteral("one per line"));
        edit->setLineWrapMode(QPlainTextEdit::NoWrap);
        const int line = edit->fontMetrics().lineSpacing();
        edit->setFixedHeight(line * 2 + 12);
        return edit;
    }
    return new QLineEdit(parent);  // string, and any type a newer engine may add
}

QString schemaTooltip(const QJsonObject& spec, const QString& path) {
    QString tip = QStringLiteral("<b>%1</b> <code>%2</code><br>%3")
                      .arg(spec.value(QStringLiteral("label")).toString().toHtmlEscaped(), path.toHtmlEscaped(),
                           spec.value(QStringLiteral("help")).toString().toHtmlEscaped());
    const QJsonValue def = spec.value(QStringLiteral("default"));
    QStringList facts;
    if (spec.value(QStringLiteral("required")).toBool())
        facts << QStringLiteral("required");
    else if (def.isDouble())
        facts << QStringLiteral("default %1").arg(formatNumber(def.toDouble()));
    else if (def.isBool())
        facts << QStringLiteral("default %1").arg(def.toBool() ? "on" : "off");
    else if (def.isString() && !def.toString().isEmpty())
        facts << QStringLiteral("default \"%1\"").arg(def.toString().toHtmlEscaped());
    if (const QString r = rangeText(spec); !r.isEmpty())
        facts << r;
    if (spec.contains(QStringLiteral("applies_to"))) {
        QStringList names;
        for (const QJsonValue& v : spec.value(QStringLiteral("applies_to")).toArray())
            names << v.toString();
        facts << QStringLiteral("for %1").arg(names.join(QStringLiteral(", ")));
    }
    if (!facts.isEmpty())
        tip += QStringLiteral("<br><i>%1</i>").arg(facts.join(QStringLiteral("; ")));
    return tip;
}

QJsonValue SchemaField::value() const {
    const QString t = type();
    if (auto* combo = qobject_cast<QComboBox*>(editor)) {
        // A choice may show a label ("DPO") with its value ("dpo") as item data.
        const QString text = combo->currentData().isValid() ? combo->currentData().toString() : combo->currentText();
        if (t == kInt)
            return QJsonValue(text.toLongLong());
        return QJsonValue(text);
    }
    if (auto* spin = qobject_cast<QSpinBox*>(editor))
        return QJsonValue(spin->value());
    if (auto* box = qobject_cast<QCheckBox*>(editor))
        return QJsonValue(box->isChecked());
    if (auto* list = qobject_cast<QPlainTextEdit*>(editor)) {
        QJsonArray items;
        for (const QString& line : list->toPlainText().split('\n'))
            if (!line.trimmed().isEmpty())
                items.append(line.trimmed());
        return items;
    }
    if (auto* edit = qobject_cast<QLineEdit*>(editor)) {
        if (t == kNumber) {
            bool ok = false;
            const double v = QLocale::c().toDouble(edit->text().trimmed(), &ok);
            return ok ? QJsonValue(v) : QJsonValue(QJsonValue::Undefined);
        }
        if (required() && edit->text().trimmed().isEmpty())
            return QJsonValue(QJsonValue::Undefined);
        return QJsonValue(t == kString ? edit->text().trimmed() : edit->text());
    }
    return QJsonValue(QJsonValue::Undefined);
}

QString SchemaField::setValue(const QJsonValue& v) {
    const QString t = type();
    if (auto* combo = qobject_cast<QComboBox*>(editor)) {
        const QString text = v.isString() ? v.toString() : v.isDouble() ? formatNumber(v.toDouble()) : QString();
        int i = combo->findData(text);
        if (i < 0)
            i = combo->findText(text);
        if (i < 0)
            return QStringLiteral("must be one of %1; got %2")
                .arg(choicesOf(spec).join(QStringLiteral(", ")), text.isEmpty() ? QStringLiteral("a non-choice") : text);
        combo->setCurrentIndex(i);
        return {};
    }
    if (auto* spin = qobject_cast<QSpinBox*>(editor)) {
        if (!isIntegral(v))
            return QStringLiteral("must be an integer");
        spin->setValue(int(std::clamp<double>(v.toDouble(), spin->minimum(), spin->maximum())));
        if (!inRange(spec, v.toDouble()))
            return QStringLiteral("must be an integer %1, got %2 (shown as %3)")
                .arg(rangeText(spec), formatNumber(v.toDouble()), QString::number(spin->value()));
        return {};
    }
    if (auto* box = qobject_cast<QCheckBox*>(editor)) {
        if (!v.isBool())
            return QStringLiteral("must be true or false");
        box->setChecked(v.toBool());
        return {};
    }
    if (auto* list = qobject_cast<QPlainTextEdit*>(editor)) {
        if (!v.isArray() && !v.isString())
            return QStringLiteral("must be a list of strings");
        list->setPlainText(listFromJson(v).join('\n'));
        return {};
    }
    if (auto* edit = qobject_cast<QLineEdit*>(editor)) {
        if (t == kNumber) {
            if (!v.isDouble())
                return QStringLiteral("must be a number");
            edit->setText(formatNumber(v.toDouble()));  // out of range stays visible: problem() reports it
            return {};
        }
        if (!v.isString())
            return QStringLiteral("must be a string");
        edit->setText(v.toString());
        return {};
    }
    return QStringLiteral("cannot be edited here");
}

void SchemaField::resetToDefault() {
    const QJsonValue def = defaultValue();
    if (def.isNull() || def.isUndefined()) {
        if (auto* edit = qobject_cast<QLineEdit*>(editor))
            edit->clear();
        else if (auto* list = qobject_cast<QPlainTextEdit*>(editor))
            list->clear();
        return;
    }
    setValue(def);
}

bool SchemaField::isDefault() const {
    const QJsonValue v = value(), def = defaultValue();
    if (v.isUndefined())
        return def.isNull() || def.isUndefined();
    if (v.isDouble() && def.isDouble())
        return v.toDouble() == def.toDouble();
    if (v.isArray())
        return listFromJson(v) == listFromJson(def);
    return v == def;
}

QString SchemaField::problem() const {
    const QJsonValue v = value();
    if (v.isUndefined()) {
        if (type() == kNumber) {
            const auto* edit = qobject_cast<const QLineEdit*>(editor);
            return edit && edit->text().trimmed().isEmpty()
                       ? QStringLiteral("needs a number")
                       : QStringLiteral("not a number: '%1'").arg(edit ? edit->text() : QString());
        }
        return required() ? QStringLiteral("required (%1)").arg(spec.value(QStringLiteral("label")).toString())
                          : QString();
    }
    if ((type() == kNumber || type() == kInt) && v.isDouble() && !inRange(spec, v.toDouble()))
        return QStringLiteral("must be %1, got %2").arg(rangeText(spec), formatNumber(v.toDouble()));
    return {};
}

} // namespace ft::ui
