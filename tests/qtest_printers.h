// Readable QCOMPARE failures for the standard types the tests compare: one set of
// QTest::toString specializations for every test file of a suite.
#pragma once

#include <QtTest>

#include <string>
#include <vector>

Q_DECLARE_METATYPE(std::string)

namespace QTest {
template <>
inline char* toString(const std::string& s)
{
    return toPrettyCString(s.data(), qsizetype(s.size()));
}
template <>
inline char* toString(const std::vector<int>& ids)
{
    QByteArray text = "[";
    for (int id : ids)
        text += (text.size() > 1 ? " " : "") + QByteArray::number(id);
    return qstrdup(text + "]");
}
template <>
inline char* toString(const std::vector<std::string>& pieces)
{
    QByteArray text = "[";
    for (const std::string& p : pieces)
        text += (text.size() > 1 ? " | " : "") + QByteArray::fromStdString(p);
    return qstrdup(text + "]");
}
} // namespace QTest
