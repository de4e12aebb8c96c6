// A settings form generated from the engine's run-config schema (`ftstudio-cli train
// --schema`): one group per section (technique, objective, data, training, eval,
// checkpoint, samples, ... whatever the schema has), an editor per setting with its
// default, range and help as tooltip. Settings with `applies_to` show only while their
// section's "name" choice is one of them; an objective's `variants` show only for that
// objective. A technique or objective the engine adds appears here without UI changes.
// Not here: the model/data/output pickers and launching (train_page.h), editor widgets
// per type (schema_field.h).
#pragma once

#include "train/schema_field.h"

#include <QJsonObject>
#include <QMap>
#include <QStringList>
#include <QWidget>

#include <vector>

class QFormLayout;
class QLabel;

namespace ft::ui {

class SchemaForm : public QWidget {
    Q_OBJECT
public:
    // `hiddenPaths`: settings another widget edits ("model", "output_dir", "data.train"):
    // never shown, left out of config() and validate().
    explicit SchemaForm(const QJsonObject& schema, const QStringList& hiddenPaths = {}, QWidget* parent = nullptr);

    // Nested per section, only what differs from the defaults, plus required values and
    // the "name" choices other settings depend on (so a saved config says its technique
    // and objective).
    QJsonObject config() const;
    // Every shown setting, defaults included (what the engine will resolve to).
    QJsonObject fullConfig() const;
    // Shows `config` (everything it does not name at its default). Values that cannot be
    // shown (unknown key, wrong type, out of range, not for this technique) are reported
    // by validate() until that setting is edited.
    void setConfig(const QJsonObject& config);
    // Problems with their JSON path: "training.optimizer.lr: must be between 0 and 10, got 20".
    QStringList validate() const;

    // The setting at `path` ("technique.r") as shown, for the current technique/objective.
    QJsonValue value(const QString& path) const;
    bool setValue(const QString& path, const QJsonValue& v);  // false: no such setting shown
    QWidget* editor(const QString& path) const;               // nullptr when not shown
    bool isShown(const QString& path) const;                  // shown under the current choices
    // The chosen variant of a section with variants (e.g. "objective"): label, help,
    // data_kinds ...; empty when none.
    QJsonObject currentVariant(const QString& section) const;

signals:
    void changed();

protected:
    bool eventFilter(QObject* watched, QEvent* event) override;  // wheel over an unfocused editor scrolls the page

private:
    void buildSettings(const QJsonArray& settings, const QStringList& prefix, QFormLayout* form,
                       const QString& variant, const QString& switchPath);
    void addField(const QJsonObject& spec, const QStringList& keys, QFormLayout* form, const QString& variant,
                  const QString& switchPath);
    QFormLayout* generalForm();
    void connectEditor(int index);
    void updateVisibility();
    void markField(int index);  // bold label when changed, red frame when invalid
    bool fieldShown(const SchemaField& f) const;
    bool controlsOthers(const SchemaField& sw) const;  // a "name" that decides what else applies
    const SchemaField* shownField(const QString& path) const;
    QString switchValue(const QString& switchPath) const;

    std::vector<SchemaField> m_fields;
    QStringList m_hidden;
    QMap<QString, QJsonObject> m_variants;     // section path -> variants object from the schema
    QMap<QString, QLabel*> m_variantHelp;      // section path -> label showing the variant's help
    QMap<QString, QString> m_loadProblems;     // path -> what setConfig could not show
    std::vector<std::pair<QWidget*, QFormLayout*>> m_groups;  // group boxes and their forms
    QWidget* m_generalBox = nullptr;
    QFormLayout* m_generalForm = nullptr;
    bool m_loading = false;
};

} // namespace ft::ui
