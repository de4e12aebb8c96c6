#include "label/pair_generator.h"

#include "engine/cli_job.h"

namespace ft::ui {

QStringList generateArguments(const QString& modelDir, const QString& prompt, const GenerationSettings& s) {
    QStringList args{QStringLiteral("generate")};
    if (!modelDir.isEmpty())
        args << QStringLiteral("--model") << modelDir;
    if (!s.adapterDir.isEmpty())
        args << QStringLiteral("--adapter") << s.adapterDir;
    args << QStringLiteral("--prompt") << prompt << QStringLiteral("--max-new-tokens")
         << QString::number(s.maxNewTokens) << QStringLiteral("--temperature") << QString::number(s.temperature)
         << QStringLiteral("--seed") << QString::number(s.seed);
    if (!s.templateName.isEmpty() && s.templateName != QLatin1String("none"))
        args << QStringLiteral("--template") << s.templateName << QStringLiteral("--show-prompt")
             << QStringLiteral("--no-echo");
    return args;
}

QString renderedPromptOf(const QString& line) {
    static const QString kPrefix = QStringLiteral("rendered prompt: ");
    if (!line.startsWith(kPrefix))
        return {};
    const auto j = nlohmann::json::parse(line.mid(kPrefix.size()).toStdString(), nullptr, false);
    return j.is_string() ? QString::fromStdString(j.get<std::string>()) : QString();
}

QString promptEcho(const QString& prompt, const GenerationSettings& s) {
    if (!s.templateName.isEmpty() && s.templateName != QLatin1String("none"))
        return {};
    QString echo = prompt;
    echo.replace(QStringLiteral("\\n"), QStringLiteral("\n"));
    return echo;
}

QString generatedPart(const QString& stdoutText, const QString& echo, bool finished) {
    QString text;
    if (stdoutText.startsWith(echo))
        text = stdoutText.mid(echo.size());
    else if (echo.startsWith(stdoutText))
        text.clear();  // only part of the echo so far
    else
        text = stdoutText;  // the engine printed something else first: show all of it
    if (finished && text.endsWith('\n'))
        text.chop(1);
    return text;
}

QString fieldText(const nlohmann::json& value) {
    if (value.is_string())
        return QString::fromStdString(value.get<std::string>());
    if (value.is_array()) {
        QStringList parts;
        for (const auto& m : value) {
            const std::string role = m.is_object() ? m.value("role", std::string()) : std::string();
            const auto content = m.is_object() && m.contains("content") ? m["content"] : m;
            const QString text = content.is_string() ? QString::fromStdString(content.get<std::string>())
                                                     : QString::fromStdString(content.dump());
            parts << (role.empty() ? text : QString::fromStdString(role) + QStringLiteral(": ") + text);
        }
        return parts.join(QStringLiteral("\n\n"));
    }
    return value.is_null() ? QString() : QString::fromStdString(value.dump());
}

PairGenerator::PairGenerator(QObject* parent) : QObject(parent), m_job(new CliJob(this)) {
    connect(m_job, &CliJob::outputText, this, &PairGenerator::onOutput);
    connect(m_job, &CliJob::errorLine, this, [this](const QString& line) {
        if (const QString rendered = renderedPromptOf(line); m_side >= 0 && !rendered.isEmpty())
            emit promptRendered(rendered);
    });
    connect(m_job, &CliJob::finished, this, &PairGenerator::onFinished);
}

void PairGenerator::start(const QString& modelDir, const QString& prompt, const GenerationSettings& a,
                          const GenerationSettings& b) {
    cancel();
    m_modelDir = modelDir;
    m_prompt = prompt;
    m_settings[0] = a;
    m_settings[1] = b;
    m_text[0].clear();
    m_text[1].clear();
    emit textChanged(0, QString());
    emit textChanged(1, QString());
    startSide(0);
}

void PairGenerator::cancel() {
    if (m_side < 0)
        return;
    m_side = -1;  // the job's own finished("cancelled") arrives later and is ignored
    m_job->cancel();
    emit finished(false, QStringLiteral("cancelled"));
}

bool PairGenerator::isRunning() const { return m_side >= 0; }

void PairGenerator::startSide(int side) {
    m_side = side;
    m_echo = promptEcho(m_prompt, m_settings[side]);
    m_job->start(generateArguments(m_modelDir, m_prompt, m_settings[side]));
}

void PairGenerator::onOutput() {
    if (m_side < 0)
        return;
    m_text[m_side] = generatedPart(m_job->allOutput(), m_echo, false);
    emit textChanged(m_side, m_text[m_side]);
}

void PairGenerator::onFinished(bool ok, const QString& message) {
    if (m_side < 0)
        return;
    const int side = m_side;
    m_text[side] = generatedPart(m_job->allOutput(), m_echo, true);
    emit textChanged(side, m_text[side]);
    if (!ok) {
        m_side = -1;
        emit finished(false, QStringLiteral("response %1: %2").arg(side == 0 ? "A" : "B", message));
        return;
    }
    if (side == 0) {
        startSide(1);
        return;
    }
    m_side = -1;
    emit finished(true, QString());
}

} // namespace ft::ui
