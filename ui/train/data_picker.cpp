#include "train/data_picker.h"

#include "app/session.h"
#include "app/studio_paths.h"
#include "data/project_store.h"

#include <QFileDialog>
#include <QFileInfo>

namespace ft::ui {

namespace {
const QString kChooseFile = QStringLiteral("\x01choose");
constexpr int kKindRole = Qt::UserRole + 1;
} // namespace

DataPicker::DataPicker(Session* session, QWidget* parent) : QComboBox(parent), m_session(session) {
    setObjectName(QStringLiteral("datasetCombo"));
    setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    setMinimumContentsLength(12);
    setToolTip(QStringLiteral("A dataset of the open project, or a JSONL/JSON/CSV/TSV/text file."));
    connect(this, &QComboBox::activated, this, &DataPicker::onActivated);
    connect(session, &Session::datasetsChanged, this, &DataPicker::refresh);
    connect(session, &Session::projectChanged, this, &DataPicker::refresh);
    refresh();
}

QString DataPicker::currentRef() const {
    const QString ref = currentData().toString();
    return ref == kChooseFile ? QString() : ref;
}

QString DataPicker::currentKind() const { return currentData(kKindRole).toString(); }

void DataPicker::refresh() {
    const QString current = currentData().toString();
    QStringList files;  // files chosen before stay in the list
    for (int i = 0; i < count(); ++i) {
        const QString ref = itemData(i).toString();
        if (!ref.isEmpty() && ref != kChooseFile && !ref.contains('#'))
            files << ref;
    }
    {
        QSignalBlocker block(this);
        clear();
        if (m_session->hasProject()) {
            const QString project = m_session->projectPath();
            std::vector<ft::data::DatasetInfo> sets;
            m_session->run(QStringLiteral("List the datasets"), [&](ft::data::ProjectStore& s) { sets = s.datasets(); });
            for (const auto& d : sets) {
                const QString name = QString::fromStdString(d.name);
                const QString kind = QString::fromLatin1(ft::data::datasetKindName(d.kind));
                addItem(QStringLiteral("%1 (%2, %3 rows)").arg(name, kind).arg(d.rowCount), project + '#' + name);
                setItemData(count() - 1, kind, kKindRole);
                setItemData(count() - 1, project + '#' + name, Qt::ToolTipRole);
            }
        }
        for (const QString& f : files) {
            addItem(QFileInfo(f).fileName(), f);
            setItemData(count() - 1, f, Qt::ToolTipRole);
        }
        if (count() > 0)
            insertSeparator(count());
        addItem(QStringLiteral("Choose file…"), kChooseFile);
        const int keep = findData(current);
        setCurrentIndex(keep >= 0 ? keep : (count() > 1 ? 0 : -1));
    }
    m_last = currentData().toString();
    emit currentIndexChanged(currentIndex());
}

void DataPicker::selectRef(const QString& ref) {
    int i = findData(ref);
    if (i < 0) {
        insertItem(count() - 1, ref.contains('#') ? ref.section('#', -1) : QFileInfo(ref).fileName(), ref);
        i = findData(ref);
        setItemData(i, ref, Qt::ToolTipRole);
    }
    setCurrentIndex(i);
    m_last = ref;
}

void DataPicker::onActivated(int index) {
    if (itemData(index).toString() != kChooseFile) {
        m_last = itemData(index).toString();
        return;
    }
    const QString file =
        QFileDialog::getOpenFileName(this, QStringLiteral("Training data"), samplesDir(),
                                     QStringLiteral("Data files (*.jsonl *.json *.csv *.tsv *.txt);;All files (*)"));
    if (file.isEmpty()) {
        setCurrentIndex(findData(m_last));
        return;
    }
    selectRef(file);
}

} // namespace ft::ui
