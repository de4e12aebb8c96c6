#include "train/schema_form.h"

#include <QCheckBox>
#include <QComboBox>
#include <QEvent>
#include <QFormLayout>
#include <QGroupBox>
#include <QJsonArray>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QSpinBox>
#include <QVBoxLayout>

namespace ft::ui {

namespace {

const QString kName = QStringLiteral("name");

QFormLayout* makeForm(QWidget* box) {
    auto* form = new QFormLayout(box);
    form->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
    form->setLabelAlignment(Qt::AlignRight | Qt::AlignVCenter);
    form->setContentsMargins(8, 6, 8, 6);
    form->setVerticalSpacing(4);
    return form;
}

void insertAt(QJsonObject& root, const QStringList& keys, int depth, const QJsonValue& v) {
    const QString& k = keys[depth];
    if (depth == keys.size() - 1) {
        root.insert(k, v);
        return;
    }
    QJsonObject child = root.value(k).toObject();
    insertAt(child, keys, depth + 1, v);
    root.insert(k, child);
}

// Every leaf of a config as (path, value); objects are walked, arrays are leaves.
void flatten(const QJsonObject& o, const QString& prefix, QList<QPair<QString, QJsonValue>>& out) {
    for (auto it = o.begin(); it != o.end(); ++it) {
        const QString path = prefix.isEmpty() ? it.key() : prefix + '.' + it.key();
        if (it->isObject())
            flatten(it->toObject(), path, out);
        else
            out.append({path, *it});
    }
}

} // namespace

SchemaForm::SchemaForm(const QJsonObject& schema, const QStringList& hiddenPaths, QWidget* parent)
    : QWidget(parent), m_hidden(hiddenPaths) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(6);
    for (const QJsonValue& v : schema.value(QStringLiteral("settings")).toArray()) {
        const QJsonObject spec = v.toObject();
        const QString key = spec.value(QStringLiteral("key")).toString();
        if (spec.value(QStringLiteral("type")).toString() == QLatin1String("object")) {
            auto* box = new QGroupBox(spec.value(QStringLiteral("label")).toString(key), this);
            box->setObjectName(QStringLiteral("section.") + key);
            box->setToolTip(spec.value(QStringLiteral("help")).toString());
            QFormLayout* form = makeForm(box);
            layout->addWidget(box);
            m_groups.push_back({box, nullptr});
            buildSettings(spec.value(QStringLiteral("settings")).toArray(), {key}, form, {}, {});
            if (spec.contains(QStringLiteral("variants")))
                m_variants.insert(key, spec.value(QStringLiteral("variants")).toObject());
            const QString sw = key + '.' + kName;
            const QJsonObject variants = spec.value(QStringLiteral("variants")).toObject();
            for (auto it = variants.begin(); it != variants.end(); ++it)
                buildSettings(it->toObject().value(QStringLiteral("settings")).toArray(), {key}, form, it.key(), sw);
        } else {
            addField(spec, {key}, generalForm(), {}, {});
        }
    }
    layout->addStretch(1);
    for (int i = 0; i < int(m_fields.size()); ++i)
        connectEditor(i);
    updateVisibility();
}

QFormLayout* SchemaForm::generalForm() {
    if (!m_generalForm) {
        auto* box = new QGroupBox(QStringLiteral("General"), this);
        box->setObjectName(QStringLiteral("section.general"));
        m_generalForm = makeForm(box);
        static_cast<QVBoxLayout*>(layout())->insertWidget(0, box);
        m_generalBox = box;
    }
    return m_generalForm;
}

void SchemaForm::buildSettings(const QJsonArray& settings, const QStringList& prefix, QFormLayout* form,
                               const QString& variant, const QString& switchPath) {
    // A section's own "name" choice decides which of its settings apply.
    QString sw = switchPath;
    for (const QJsonValue& v : settings) {
        const QJsonObject s = v.toObject();
        if (variant.isEmpty() && s.value(QStringLiteral("key")).toString() == kName &&
            s.value(QStringLiteral("type")).toString() == QLatin1String("choice"))
            sw = prefix.join('.') + '.' + kName;
    }
    for (const QJsonValue& v : settings) {
        const QJsonObject spec = v.toObject();
        const QString key = spec.value(QStringLiteral("key")).toString();
        if (spec.value(QStringLiteral("type")).toString() == QLatin1String("object")) {
            auto* box = new QGroupBox(spec.value(QStringLiteral("label")).toString(key));
            box->setObjectName(QStringLiteral("section.") + (prefix + QStringList{key}).join('.'));
            box->setToolTip(spec.value(QStringLiteral("help")).toString());
            box->setFlat(true);
            QFormLayout* sub = makeForm(box);
            form->addRow(box);
            m_groups.push_back({box, form});
            buildSettings(spec.value(QStringLiteral("settings")).toArray(), prefix + QStringList{key}, sub, variant, sw);
            continue;
        }
        addField(spec, prefix + QStringList{key}, form, variant, sw);
    }
}

void SchemaForm::addField(const QJsonObject& spec, const QStringList& keys, QFormLayout* form, const QString& variant,
                          const QString& switchPath) {
    SchemaField f;
    f.spec = spec;
    f.keys = keys;
    f.path = keys.join('.');
    f.variant = variant;
    f.switchPath = switchPath;
    f.isSwitch = variant.isEmpty() && keys.last() == kName && f.path == switchPath;
    f.form = form;
    f.editor = createSchemaEditor(spec, this);
    f.editor->setObjectName(variant.isEmpty() ? f.path : f.path + '@' + variant);
    f.editor->setToolTip(schemaTooltip(spec, f.path));
    f.editor->setFocusPolicy(Qt::StrongFocus);
    f.editor->installEventFilter(this);
    f.label = new QLabel(spec.value(QStringLiteral("label")).toString(keys.last()), this);
    f.label->setToolTip(f.editor->toolTip());
    f.label->setBuddy(f.editor);
    form->addRow(f.label, f.editor);
    f.resetToDefault();
    m_fields.push_back(f);
}

void SchemaForm::connectEditor(int index) {
    SchemaField& f = m_fields[size_t(index)];
    // Objective choices read as their variants' labels ("DPO"), their value stays the name.
    if (f.isSwitch && m_variants.contains(f.keys.first())) {
        auto* combo = qobject_cast<QComboBox*>(f.editor);
        const QJsonObject variants = m_variants.value(f.keys.first());
        for (int i = 0; combo && i < combo->count(); ++i) {
            const QString name = combo->itemText(i);
            const QJsonObject v = variants.value(name).toObject();
            combo->setItemData(i, name);
            if (v.contains(QStringLiteral("label")))
                combo->setItemText(i, QStringLiteral("%1 (%2)").arg(v.value(QStringLiteral("label")).toString(), name));
            combo->setItemData(i, v.value(QStringLiteral("help")).toString(), Qt::ToolTipRole);
        }
        auto* help = new QLabel(this);
        help->setWordWrap(true);
        help->setObjectName(f.keys.first() + QStringLiteral(".variantHelp"));
        help->setStyleSheet(QStringLiteral("color: palette(placeholder-text);"));
        const int row = [&] {
            int r = -1;
            QFormLayout::ItemRole role;
            f.form->getWidgetPosition(f.editor, &r, &role);
            return r;
        }();
        f.form->insertRow(row + 1, help);
        m_variantHelp.insert(f.keys.first(), help);
        f.resetToDefault();
    }
    auto onChange = [this, index] {
        if (m_loading)
            return;
        const SchemaField& field = m_fields[size_t(index)];
        m_loadProblems.remove(field.path);
        if (field.isSwitch)
            updateVisibility();
        markField(index);
        emit changed();
    };
    QWidget* e = f.editor;
    if (auto* c = qobject_cast<QComboBox*>(e))
        connect(c, &QComboBox::currentIndexChanged, this, onChange);
    else if (auto* s = qobject_cast<QSpinBox*>(e))
        connect(s, &QSpinBox::valueChanged, this, onChange);
    else if (auto* b = qobject_cast<QCheckBox*>(e))
        connect(b, &QCheckBox::toggled, this, onChange);
    else if (auto* l = qobject_cast<QLineEdit*>(e))
        connect(l, &QLineEdit::textChanged, this, onChange);
    else if (auto* p = qobject_cast<QPlainTextEdit*>(e))
        connect(p, &QPlainTextEdit::textChanged, this, onChange);
}

QString SchemaForm::switchValue(const QString& switchPath) const {
    for (const SchemaField& f : m_fields)
        if (f.isSwitch && f.path == switchPath)
            return f.value().toString();
    return {};
}

bool SchemaForm::fieldShown(const SchemaField& f) const {
    if (m_hidden.contains(f.path))
        return false;
    // Variants belong to a section ("objective"): its own "name" picks one.
    if (!f.variant.isEmpty() && f.variant != switchValue(f.keys.first() + '.' + kName))
        return false;
    const QStringList applies = f.appliesTo();
    return applies.isEmpty() || f.switchPath.isEmpty() || applies.contains(switchValue(f.switchPath));
}

void SchemaForm::updateVisibility() {
    std::vector<bool> shown(m_fields.size());
    for (size_t i = 0; i < m_fields.size(); ++i) {
        shown[i] = fieldShown(m_fields[i]);
        m_fields[i].form->setRowVisible(m_fields[i].editor, shown[i]);
        markField(int(i));
    }
    for (auto& [box, parentForm] : m_groups) {
        const QString prefix = box->objectName().mid(int(qstrlen("section."))) + '.';
        bool any = false;
        for (size_t i = 0; i < m_fields.size() && !any; ++i)
            any = shown[i] && m_fields[i].path.startsWith(prefix);
        if (parentForm)
            parentForm->setRowVisible(box, any);
        else
            box->setVisible(any);
    }
    if (m_generalBox) {
        bool any = false;
        for (size_t i = 0; i < m_fields.size(); ++i)
            any = any || (shown[i] && m_fields[i].keys.size() == 1);
        m_generalBox->setVisible(any);
    }
    for (auto it = m_variantHelp.begin(); it != m_variantHelp.end(); ++it) {
        const QString help = currentVariant(it.key()).value(QStringLiteral("help")).toString();
        it.value()->setText(help);
        for (const SchemaField& f : m_fields)
            if (f.isSwitch && f.keys.first() == it.key())
                f.form->setRowVisible(it.value(), !help.isEmpty() && fieldShown(f));
    }
}

void SchemaForm::markField(int index) {
    const SchemaField& f = m_fields[size_t(index)];
    QFont font = f.label->font();
    font.setBold(!f.isDefault());
    f.label->setFont(font);
    if (qobject_cast<QLineEdit*>(f.editor)) {
        const bool bad = !f.problem().isEmpty() && !(f.required() && f.value().isUndefined());
        f.editor->setStyleSheet(bad ? QStringLiteral("QLineEdit { border: 1px solid #c0392b; }") : QString());
    }
}

bool SchemaForm::controlsOthers(const SchemaField& sw) const {
    if (m_variants.contains(sw.keys.first()) && sw.keys.size() == 2)
        return true;
    for (const SchemaField& f : m_fields)
        if (f.switchPath == sw.path && !f.appliesTo().isEmpty())
            return true;
    return false;
}

const SchemaField* SchemaForm::shownField(const QString& path) const {
    for (const SchemaField& f : m_fields)
        if (f.path == path && fieldShown(f))
            return &f;
    return nullptr;
}

QJsonObject SchemaForm::config() const {
    QJsonObject out;
    for (const SchemaField& f : m_fields) {
        if (!fieldShown(f))
            continue;
        const QJsonValue v = f.value();
        if (v.isUndefined())
            continue;
        if (f.required() || (f.isSwitch && controlsOthers(f)) || !f.isDefault())
            insertAt(out, f.keys, 0, v);
    }
    return out;
}

QJsonObject SchemaForm::fullConfig() const {
    QJsonObject out;
    for (const SchemaField& f : m_fields)
        if (fieldShown(f) && !f.value().isUndefined())
            insertAt(out, f.keys, 0, f.value());
    return out;
}

void SchemaForm::setConfig(const QJsonObject& config) {
    m_loading = true;
    m_loadProblems.clear();
    for (SchemaField& f : m_fields)
        f.resetToDefault();
    QList<QPair<QString, QJsonValue>> leaves;
    flatten(config, {}, leaves);
    // The "name" choices first: they decide which settings the others are.
    for (const auto& [path, v] : leaves)
        for (SchemaField& f : m_fields)
            if (f.isSwitch && f.path == path && !m_hidden.contains(path))
                if (const QString p = f.setValue(v); !p.isEmpty())
                    m_loadProblems.insert(path, p);
    for (const auto& [path, v] : leaves) {
        if (m_hidden.contains(path) || v.isNull())
            continue;
        SchemaField* target = nullptr;
        bool known = false;
        for (SchemaField& f : m_fields) {
            if (f.path != path || f.isSwitch)
                continue;
            known = true;
            if (fieldShown(f))
                target = &f;
        }
        bool isSwitch = false;
        for (const SchemaField& f : m_fields)
            isSwitch = isSwitch || (f.isSwitch && f.path == path);
        if (isSwitch)
            continue;
        if (!target) {
            const QString section = path.section('.', 0, 0);
            m_loadProblems.insert(path, known ? QStringLiteral("does not apply to %1 '%2' (not shown)")
                                                    .arg(section, switchValue(section + '.' + kName))
                                              : QStringLiteral("unknown setting (ignored)"));
            continue;
        }
        if (const QString p = target->setValue(v); !p.isEmpty())
            m_loadProblems.insert(path, p);
    }
    m_loading = false;
    updateVisibility();
    emit changed();
}

QStringList SchemaForm::validate() const {
    QStringList out;
    for (const SchemaField& f : m_fields) {
        if (!fieldShown(f))
            continue;
        if (const QString p = f.problem(); !p.isEmpty())
            out << f.path + QStringLiteral(": ") + p;
        else if (m_loadProblems.contains(f.path))
            out << f.path + QStringLiteral(": ") + m_loadProblems.value(f.path);
    }
    for (auto it = m_loadProblems.begin(); it != m_loadProblems.end(); ++it)
        if (!shownField(it.key()))
            out << it.key() + QStringLiteral(": ") + it.value();
    return out;
}

QJsonValue SchemaForm::value(const QString& path) const {
    const SchemaField* f = shownField(path);
    return f ? f->value() : QJsonValue(QJsonValue::Undefined);
}

bool SchemaForm::setValue(const QString& path, const QJsonValue& v) {
    for (SchemaField& f : m_fields)
        if (f.path == path && fieldShown(f))
            return f.setValue(v).isEmpty();
    return false;
}

QWidget* SchemaForm::editor(const QString& path) const {
    const SchemaField* f = shownField(path);
    return f ? f->editor : nullptr;
}

bool SchemaForm::isShown(const QString& path) const { return shownField(path) != nullptr; }

QJsonObject SchemaForm::currentVariant(const QString& section) const {
    return m_variants.value(section).value(switchValue(section + '.' + kName)).toObject();
}

bool SchemaForm::eventFilter(QObject* watched, QEvent* event) {
    if (event->type() == QEvent::Wheel) {
        auto* w = qobject_cast<QWidget*>(watched);
        if (w && !w->hasFocus() && (qobject_cast<QSpinBox*>(w) || qobject_cast<QComboBox*>(w))) {
            event->ignore();  // let the scroll area scroll instead of changing a value by accident
            return true;
        }
    }
    return QWidget::eventFilter(watched, event);
}

} // namespace ft::ui
