#include "train/schema_provider.h"

#include "train/run_config.h"

#include <QJsonDocument>

namespace ft::ui {

const QJsonObject& runConfigSchema() {
    static const QJsonObject schema =
        QJsonDocument::fromJson(QByteArray::fromStdString(ft::train::runConfigSchema().dump())).object();
    return schema;
}

} // namespace ft::ui
