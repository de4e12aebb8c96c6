// The Model page: choose the base model folder (dialog, drag and drop, recent list),
// see what it is (architecture, parameters, dtype, context length, memory, tokenizer
// and chat template; described by `ftstudio-cli info --json`), and try it with a quick
// prompt, streamed. A .gguf file (an export, or one from elsewhere) opens read-only for
// information: architecture, kind, types, size, tokenizer, metadata (`info FILE.gguf
// --json`); the studio keeps training from the Hugging Face folder.
// Nothing here loads a tensor: the engine process does.
#pragma once

#include <QWidget>

class QComboBox;
class QLabel;
class QPlainTextEdit;
class QPushButton;
class QSpinBox;
class QDoubleSpinBox;
class QJsonObject;
class QTableWidget;
class QTextBrowser;

namespace ft::ui {

class CliJob;
class Session;

class ModelPage : public QWidget {
    Q_OBJECT
public:
    explicit ModelPage(Session* session, QWidget* parent = nullptr);

    QString describedModel() const { return m_described; }
    CliJob* generationJob() const { return m_generate; }

public slots:
    void describe(const QString& dir);  // runs `info --json`; the table fills when it answers
    void describeGguf(const QString& file);  // read-only view of a .gguf file; the model stays as it is
    void generate();                    // the quick prompt through the current model

private:
    void chooseFolder();
    void chooseGguf();
    void showGguf(const QJsonObject& info);
    void fillTokenizerRows(const QString& dir);
    void addRow(const QString& name, const QString& value);

    Session* m_session;
    QComboBox* m_path = nullptr;
    QTableWidget* m_info = nullptr;
    QLabel* m_state = nullptr;
    QPlainTextEdit* m_prompt = nullptr;
    QTextBrowser* m_output = nullptr;
    QSpinBox* m_maxTokens = nullptr;
    QDoubleSpinBox* m_temperature = nullptr;
    QPushButton* m_run = nullptr;
    QPushButton* m_stop = nullptr;
    CliJob* m_describe = nullptr;
    CliJob* m_describeGguf = nullptr;
    CliJob* m_generate = nullptr;
    QString m_described;
};

} // namespace ft::ui
