// Generates a fresh pair of responses to one prompt for the Label page: two runs of
// `ftstudio-cli generate`, one after the other (so two models never share the CPU),
// with the prompt echo stripped and the text streamed as it arrives. Also the small
// text helpers the page shares with it. Not here: storing the pair (the page stores it
// only when the user decides), layout.
#pragma once

#include <nlohmann/json.hpp>

#include <QObject>
#include <QString>
#include <QStringList>

namespace ft::ui {

class CliJob;

// Settings of one side of a generated pair.
struct GenerationSettings {
    QString adapterDir;  // "" = the base model alone
    double temperature = 0.7;
    int seed = 1;
    int maxNewTokens = 128;
    // How the prompt reaches the model (generate --template): none = raw; model = the
    // model's chat template; alpaca, chatml, plain = the training formats.
    QString templateName = QStringLiteral("none");
};

// `ftstudio-cli generate` arguments; an empty modelDir leaves --model out (the engine's default model).
QStringList generateArguments(const QString& modelDir, const QString& prompt, const GenerationSettings& s);

// What `generate` prints before the new text: the prompt, with "\n" escapes turned into newlines;
// "" when a template renders it (generate then runs with --no-echo).
QString promptEcho(const QString& prompt, const GenerationSettings& s = {});

// The rendered prompt from a `generate --show-prompt` stderr line; "" for any other line.
QString renderedPromptOf(const QString& stderrLine);

// The generated part of the stdout of `generate` so far (the echo removed; "" while
// only part of the echo has arrived). `finished`: the trailing newline is dropped too.
QString generatedPart(const QString& stdoutText, const QString& echo, bool finished);

// A preference field as readable text: a string as is, a message list as "role: content" blocks.
QString fieldText(const nlohmann::json& value);

class PairGenerator : public QObject {
    Q_OBJECT
public:
    explicit PairGenerator(QObject* parent = nullptr);

    // Starts side A, then side B. A pair already being generated is cancelled first.
    void start(const QString& modelDir, const QString& prompt, const GenerationSettings& a,
               const GenerationSettings& b);
    void cancel();
    bool isRunning() const;
    QString text(int side) const { return m_text[side & 1]; }

signals:
    void textChanged(int side, const QString& text);  // side 0 = A, 1 = B; the whole text so far
    void finished(bool ok, const QString& message);   // ok: both sides done
    // With a prompt template: the prompt exactly as the model saw it.
    void promptRendered(const QString& rendered);

private:
    void startSide(int side);
    void onOutput();
    void onFinished(bool ok, const QString& message);

    CliJob* m_job = nullptr;
    QString m_modelDir, m_prompt, m_echo;
    GenerationSettings m_settings[2];
    QString m_text[2];
    int m_side = -1;  // the side being generated, -1 when idle
};

} // namespace ft::ui
