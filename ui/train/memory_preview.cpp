#include "train/memory_preview.h"

#include "model/model_config.h"
#include "peft/peft_settings.h"
#include "train/memory_estimate.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QRegularExpression>

#include <algorithm>
#include <cmath>
#include <exception>

namespace ft::ui {

namespace {

QJsonValue at(const QJsonObject& root, const QString& path) {
    const QStringList keys = path.split('.');
    QJsonValue v = root;
    for (const QString& k : keys)
        v = v.toObject().value(k);
    return v;
}
qint64 intAt(const QJsonObject& root, const QString& path, qint64 fallback) {
    const QJsonValue v = at(root, path);
    return v.isDouble() ? qint64(v.toDouble()) : fallback;
}
bool boolAt(const QJsonObject& root, const QString& path, bool fallback) {
    const QJsonValue v = at(root, path);
    return v.isBool() ? v.toBool() : fallback;
}
QString stringAt(const QJsonObject& root, const QString& path, const QString& fallback) {
    const QJsonValue v = at(root, path);
    return v.isString() ? v.toString() : fallback;
}
QStringList listAt(const QJsonObject& root, const QString& path) {
    QStringList out;
    const QJsonValue v = at(root, path);
    if (v.isString())
        out << v.toString();
    for (const QJsonValue& x : v.toArray())
        out << x.toString();
    return out;
}

// One decoder layer's linear projections: name, in and out features.
struct Projection {
    const char* name;
    qint64 in, out;
};
std::vector<Projection> projections(const ft::model::ModelConfig& c) {
    const qint64 C = c.hiddenSize, F = c.intermediateSize, QD = c.numAttentionHeads * c.headDim,
                 KD = c.numKeyValueHeads * c.headDim;
    return {{"q_proj", C, QD}, {"k_proj", C, KD},  {"v_proj", C, KD},  {"o_proj", QD, C},
            {"gate_proj", C, F}, {"up_proj", C, F}, {"down_proj", F, C}};
}

// The projections `targets` selects; `exact` turns false for a target this count cannot read.
std::vector<Projection> selectTargets(const ft::model::ModelConfig& c, QStringList targets, const QString& technique,
                                      bool& exact) {
    if (targets.isEmpty())
        for (const std::string& t : ft::peft::defaultTargets(technique.toStdString()))
            targets << QString::fromStdString(t);
    std::vector<Projection> all = projections(c), out;
    if (targets.size() == 1 && targets.first() == QLatin1String("all-linear"))
        return all;
    static const QRegularExpression plainName(QStringLiteral("^\\.?[A-Za-z0-9_]+$"));
    for (const QString& t : targets)
        exact = exact && plainName.match(t).hasMatch();
    for (const Projection& p : all) {
        bool hit = false;
        for (QString t : targets)
            hit = hit || (t.startsWith('.') ? t.mid(1) : t) == QLatin1String(p.name);
        if (hit)
            out.push_back(p);
    }
    if (out.empty() && !exact)  // a regular expression: count the technique's defaults instead
        return selectTargets(c, {}, technique, exact);
    return out;
}

qint64 layerParameters(const ft::model::ModelConfig& c) {
    qint64 n = 2 * c.hiddenSize;
    for (const Projection& p : projections(c))
        n += p.in * p.out;
    return n;
}

} // namespace

QString formatCount(qint64 n) {
    const double v = double(n);
    if (std::abs(v) >= 1e9)
        return QString::number(v / 1e9, 'f', 2) + QStringLiteral(" B");
    if (std::abs(v) >= 1e6)
        return QString::number(v / 1e6, 'f', 2) + QStringLiteral(" M");
    if (std::abs(v) >= 1e3)
        return QString::number(v / 1e3, 'f', 1) + QStringLiteral(" K");
    return QString::number(n);
}

QString formatBytes(qint64 bytes) { return QString::fromStdString(ft::train::formatBytes(bytes)); }

qint64 availableHostMemory() {
    qint64 available = 0;
    QFile meminfo(QStringLiteral("/proc/meminfo"));
    if (meminfo.open(QIODevice::ReadOnly)) {
        for (const QByteArray& line : meminfo.readAll().split('\n'))
            if (line.startsWith("MemAvailable:"))
                available = line.mid(13).trimmed().split(' ').value(0).toLongLong() * 1024;
    }
    // A container's limit can be tighter than the machine's free memory.
    QFile max(QStringLiteral("/sys/fs/cgroup/memory.max")), cur(QStringLiteral("/sys/fs/cgroup/memory.current"));
    if (max.open(QIODevice::ReadOnly) && cur.open(QIODevice::ReadOnly)) {
        bool okMax = false, okCur = false;
        const qint64 limit = max.readAll().trimmed().toLongLong(&okMax);
        const qint64 used = cur.readAll().trimmed().toLongLong(&okCur);
        if (okMax && okCur && limit > used)
            available = available > 0 ? std::min(available, limit - used) : limit - used;
    }
    return available;
}

MemoryPreview previewMemory(const QString& modelDir, const QJsonObject& cfg) {
    MemoryPreview p;
    const QString configPath = QDir(modelDir).filePath(QStringLiteral("config.json"));
    if (modelDir.isEmpty() || !QFileInfo::exists(configPath)) {
        p.error = modelDir.isEmpty() ? QStringLiteral("choose a base model folder to see an estimate")
                                     : QStringLiteral("%1 has no config.json").arg(modelDir);
        return p;
    }
    ft::model::ModelConfig c;
    try {
        c = ft::model::readModelConfig(configPath.toStdString());
    } catch (const std::exception& e) {
        p.error = QString::fromStdString(e.what());
        return p;
    }
    const QString tech = stringAt(cfg, QStringLiteral("technique.name"), QStringLiteral("lora"));
    const qint64 C = c.hiddenSize, L = c.numHiddenLayers, V = c.vocabSize, KD = c.numKeyValueHeads * c.headDim;
    const qint64 base = c.parameterCount();
    qint64 trainable = 0, frozenParams = base, adapterExtra = 0;
    double frozenBytes = 0;
    bool exact = true;
    const QStringList targets = listAt(cfg, QStringLiteral("technique.target_modules"));
    if (tech == QLatin1String("lora") || tech == QLatin1String("dora") || tech == QLatin1String("rslora") ||
        tech == QLatin1String("qlora")) {
        const qint64 r = intAt(cfg, QStringLiteral("technique.r"), 8);
        const bool dora = tech == QLatin1String("dora") || boolAt(cfg, QStringLiteral("technique.use_dora"), false);
        for (const Projection& pr : selectTargets(c, targets, tech, exact))
            adapterExtra += L * (r * (pr.in + pr.out) + (dora ? pr.out : 0));
    } else if (tech == QLatin1String("ia3")) {
        QStringList ff = listAt(cfg, QStringLiteral("technique.feedforward_modules"));
        if (ff.isEmpty())
            ff << QStringLiteral("down_proj");
        for (const Projection& pr : selectTargets(c, targets, tech, exact))
            adapterExtra += L * (ff.contains(QLatin1String(pr.name)) ? pr.in : pr.out);
    } else if (tech == QLatin1String("adapter")) {
        const qint64 a = intAt(cfg, QStringLiteral("technique.adapter_size"), 16);
        const qint64 perLayer =
            stringAt(cfg, QStringLiteral("technique.adapter_placement"), QStringLiteral("houlsby")) == "pfeiffer" ? 1 : 2;
        adapterExtra = L * perLayer * (C * a + a + a * C + C);
    } else if (tech == QLatin1String("prefix")) {
        const qint64 n = intAt(cfg, QStringLiteral("technique.num_virtual_tokens"), 20);
        const qint64 kv = L * 2 * KD;
        if (boolAt(cfg, QStringLiteral("technique.prefix_projection"), false)) {
            // One KD-wide token per position, through Linear(KD, h), tanh, Linear(h, L*2*KD).
            const qint64 h = intAt(cfg, QStringLiteral("technique.encoder_hidden_size"), 128);
            adapterExtra = n * KD + KD * h + h + h * kv + kv;
        } else {
            adapterExtra = n * kv;
        }
    } else if (tech == QLatin1String("prompt")) {
        adapterExtra = intAt(cfg, QStringLiteral("technique.num_virtual_tokens"), 20) * C;
    } else if (tech == QLatin1String("ptuning")) {
        const qint64 n = intAt(cfg, QStringLiteral("technique.num_virtual_tokens"), 20);
        const qint64 h = intAt(cfg, QStringLiteral("technique.encoder_hidden_size"), 128);
        const qint64 layers = intAt(cfg, QStringLiteral("technique.encoder_num_layers"), 2);
        const bool lstm = stringAt(cfg, QStringLiteral("technique.encoder_type"), QStringLiteral("mlp")) == "lstm";
        qint64 encoder = 0;
        if (lstm) {
            // Bidirectional LSTM (4 gates, two bias vectors; later layers read both directions),
            // then Linear(2h, 2h), ReLU, Linear(2h, C).
            for (qint64 l = 0; l < layers; ++l)
                encoder += 2 * (4 * h * (l == 0 ? C : 2 * h) + 4 * h * h + 8 * h);
            encoder += 2 * h * 2 * h + 2 * h + 2 * h * C + C;
        } else {
            encoder = C * h + h + h * h + h + h * C + C;  // Linear(C,h), ReLU, Linear(h,h), ReLU, Linear(h,C)
        }
        adapterExtra = n * C + encoder;
    } else if (tech == QLatin1String("bitfit")) {
        for (const Projection& pr : selectTargets(c, targets, tech, exact)) {
            const QLatin1String name(pr.name);
            const bool qkv = name == "q_proj" || name == "k_proj" || name == "v_proj";
            const bool mlp = name == "gate_proj" || name == "up_proj" || name == "down_proj";
            const bool hasBias = (c.attentionBias && qkv) || (c.attentionOutBias && name == "o_proj") || (c.mlpBias && mlp);
            if (hasBias) {  // an existing bias trains in place
                trainable += L * pr.out;
                frozenParams -= L * pr.out;
            } else {        // a zero-initialized bias is added
                adapterExtra += L * pr.out;
            }
        }
    } else if (tech == QLatin1String("freeze")) {
        const qint64 n = std::min<qint64>(intAt(cfg, QStringLiteral("technique.trainable_layers"), 2), L);
        trainable = n * layerParameters(c);
        if (boolAt(cfg, QStringLiteral("technique.train_embeddings"), false))
            trainable += V * C;
        if (boolAt(cfg, QStringLiteral("technique.train_lm_head"), false) && !c.tieWordEmbeddings)
            trainable += V * C;
        frozenParams = base - trainable;
    } else if (tech == QLatin1String("full")) {
        trainable = base;
        frozenParams = 0;
    } else {
        exact = false;  // a technique this estimate does not know yet: count the base only
    }
    trainable += adapterExtra;
    frozenBytes = double(frozenParams) * 4;
    if (tech == QLatin1String("qlora")) {
        // NF4: half a byte per projection weight plus its block's absmax scale.
        const double block = double(intAt(cfg, QStringLiteral("technique.quant_block_size"), 64));
        const bool dq = boolAt(cfg, QStringLiteral("technique.double_quant"), true);
        const double perWeight = 0.5 + (dq ? 1.0 / block + 4.0 / (block * 256) : 4.0 / block);
        const double quantized = double(L * (layerParameters(c) - 2 * C));
        frozenBytes = (double(base) - quantized) * 4 + quantized * perWeight;
    }

    ft::train::MemoryEstimateInput in;
    in.config = c;
    in.trainableParameters = trainable;
    in.frozenWeightBytes = qint64(frozenBytes);
    in.batchSize = std::max<qint64>(1, intAt(cfg, QStringLiteral("training.batch_size"), 8));
    in.seqLen = std::max<qint64>(1, intAt(cfg, QStringLiteral("training.max_seq_len"), 512));
    in.activationBytes = 4;  // precision auto is fp32 today
    in.gradientCheckpointing = boolAt(cfg, QStringLiteral("training.gradient_checkpointing"), false);
    try {
        const ft::train::MemoryEstimate m = ft::train::estimateTrainingMemory(in);
        p.weights = m.weights;
        p.gradients = m.gradients;
        p.optimizer = m.optimizer;
        p.activations = m.activations;
        p.total = m.total;
    } catch (const std::exception& e) {
        p.error = QString::fromStdString(e.what());
        return p;
    }
    p.ok = true;
    p.totalParameters = base + adapterExtra;
    p.trainableParameters = trainable;
    p.approximate = !exact;
    const QString device = stringAt(cfg, QStringLiteral("training.device"), QStringLiteral("auto"));
    p.onGpu = device.startsWith(QLatin1String("cuda")) ||
              (device == QLatin1String("auto") && QFileInfo::exists(QStringLiteral("/dev/nvidia0")));
    p.availableBytes = p.onGpu ? 0 : availableHostMemory();
    p.fits = p.availableBytes <= 0 || p.total <= p.availableBytes;
    return p;
}

QString MemoryPreview::summaryHtml() const {
    if (!ok)
        return QStringLiteral("<i>%1</i>").arg(error.toHtmlEscaped());
    const double share = totalParameters > 0 ? 100.0 * double(trainableParameters) / double(totalParameters) : 0;
    QString html = QStringLiteral("Trainable parameters %1%2 of %3 (%4 %)<br>")
                       .arg(approximate ? QStringLiteral("≈ ") : QString(), formatCount(trainableParameters),
                            formatCount(totalParameters), QString::number(share, 'g', 3));
    html += QStringLiteral("Memory ≈ <b>%1</b> <span style='color:gray'>(weights %2, gradients %3, optimizer %4, "
                           "activations %5)</span>")
                .arg(formatBytes(total), formatBytes(weights), formatBytes(gradients), formatBytes(optimizer),
                     formatBytes(activations));
    if (onGpu)
        html += QStringLiteral("<br><span style='color:gray'>on CUDA: compare with the GPU's memory; the run reports "
                               "what it allocates</span>");
    else if (availableBytes > 0 && !fits)
        html += QStringLiteral("<br><span style='color:#c0392b'><b>Will not fit:</b> %1 available. Lower the batch "
                               "size or sequence length, or turn on gradient checkpointing.</span>")
                    .arg(formatBytes(availableBytes));
    else if (availableBytes > 0)
        html += QStringLiteral(" of %1 available").arg(formatBytes(availableBytes));
    return html;
}

} // namespace ft::ui
