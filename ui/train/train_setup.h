// The left half of the Train page: what a run is made of. Run name, base model (the
// session's, with Change...), training data (the project's datasets or a file), output
// folder, the settings form generated from the engine's schema, the memory/parameter
// estimate for the chosen batch and length (with a warning when it will not fit), and
// a Check button that asks the engine (`train --check`) whether it accepts the config.
// Not here: starting and watching runs (train_page.h).
#pragma once

#include <QJsonObject>
#include <QPointer>
#include <QString>
#include <QTemporaryDir>
#include <QWidget>

class QLabel;
class QLineEdit;
class QPushButton;
class QTimer;
class QVBoxLayout;

namespace ft::ui {

class CliJob;
class DataPicker;
class SchemaForm;
class Session;

class TrainSetup : public QWidget {
    Q_OBJECT
public:
    explicit TrainSetup(Session* session, QWidget* parent = nullptr);
    ~TrainSetup() override;

    void setSchema(const QJsonObject& schema);      // builds the form (once)
    bool hasSchema() const { return m_form != nullptr; }
    SchemaForm* form() const { return m_form; }

    // The run config to write: the form's settings plus model, output_dir and data.train.
    QJsonObject runConfig() const;
    // Problems that block a start, each with its JSON path.
    QStringList validate() const;
    // Shows a config (a past run's): settings, model and data; a fresh output folder.
    void loadConfig(const QJsonObject& config);

    QString runName() const;
    QString outputDir() const;
    QString modelDir() const { return m_modelDir; }
    // Picks a run name and output folder not used yet (appending -2, -3 ...).
    void makeOutputUnique();
    void newRunName();  // after a run: a fresh timestamped name
    // Selects the training data by reference ("<project>#<name>" or a file path).
    void selectData(const QString& ref);

    void setLocked(bool locked);  // while a run is going
    // The figures of the run's `started` event replace the local estimate until an edit.
    void showEngineFigures(const QJsonObject& started);
    void showProblems(const QStringList& problems);  // in the check result line

    // The Check button: the config, then the data (train --check-data): each finding with
    // its rows. Runs in the engine; checkFinished follows.
    void check();
    QString checkText() const;

signals:
    void changed();
    void checkFinished(bool configOk);
    // A finding's rows were clicked: the project dataset and the row ids.
    void rowsRequested(const QString& dataset, const QList<qint64>& rowIds);

private:
    void updateEstimate();
    void showEstimate(bool ok, const QString& message);
    void updateName();
    void showDataChecks(bool ok, const QString& message);

    Session* m_session;
    QVBoxLayout* m_formHolder = nullptr;
    QLabel* m_loading = nullptr;
    SchemaForm* m_form = nullptr;
    QLineEdit* m_name = nullptr;
    QLineEdit* m_model = nullptr;
    QPushButton* m_changeModel = nullptr;
    DataPicker* m_data = nullptr;
    QLineEdit* m_output = nullptr;
    QPushButton* m_browseOutput = nullptr;
    QLabel* m_estimate = nullptr;
    QPushButton* m_check = nullptr;
    QLabel* m_checkResult = nullptr;
    QTimer* m_estimateTimer = nullptr;
    CliJob* m_checkJob = nullptr;
    CliJob* m_dataCheckJob = nullptr;
    QString m_checkedConfigPath;
    CliJob* m_estimateJob = nullptr;
    QTemporaryDir m_estimateDir;
    QTemporaryDir* m_checkDir = nullptr;
    QString m_modelDir;
    QString m_stamp;
    QJsonObject m_pendingConfig;
    bool m_nameEdited = false;
    bool m_outputEdited = false;
    bool m_settingName = false;
};

} // namespace ft::ui
