// The training-data chooser of the Train page: the open project's datasets (as the
// engine's "<project path>#<dataset>" references, with their kind and row count),
// files chosen before, and "Choose file…". Follows the session's dataset changes.
// Not here: what the data is checked against (train_setup.h).
#pragma once

#include <QComboBox>
#include <QString>

namespace ft::ui {

class Session;

class DataPicker : public QComboBox {
    Q_OBJECT
public:
    explicit DataPicker(Session* session, QWidget* parent = nullptr);

    QString currentRef() const;   // "" when nothing usable is chosen
    QString currentKind() const;  // the project dataset's kind ("instruction" ...); "" for a file
    void selectRef(const QString& ref);  // adds it when it is not listed yet
    void refresh();

private:
    void onActivated(int index);

    Session* m_session;
    QString m_last;  // the choice before "Choose file…", to return to when it is cancelled
};

} // namespace ft::ui
