#include "peft/technique.h"

#include "util/error.h"
#include "util/text.h"

namespace ft::peft {

// Each technique's descriptor file (peft/<name>_technique.cpp) defines it (technique.h);
// this is the one list of them, in the order menus and `train --schema` show them.
const Technique& loraTechnique();
const Technique& loraPlusTechnique();
const Technique& pissaTechnique();
const Technique& doraTechnique();
const Technique& rsloraTechnique();
const Technique& qloraTechnique();
const Technique& ia3Technique();
const Technique& bottleneckAdapterTechnique();
const Technique& prefixTuningTechnique();
const Technique& promptTuningTechnique();
const Technique& pTuningTechnique();
const Technique& bitFitTechnique();
const Technique& freezeTechnique();
const Technique& fullTechnique();

const std::vector<const Technique*>& techniques()
{
    static const std::vector<const Technique*> list = {
        &loraTechnique(),          &loraPlusTechnique(),    &pissaTechnique(),       &doraTechnique(),        &rsloraTechnique(),       &qloraTechnique(),
        &ia3Technique(),           &bottleneckAdapterTechnique(), &prefixTuningTechnique(), &promptTuningTechnique(),
        &pTuningTechnique(),       &bitFitTechnique(),      &freezeTechnique(),       &fullTechnique(),
    };
    return list;
}

const Technique* findTechnique(const std::string& name)
{
    for (const Technique* t : techniques())
        if (t->name == name)
            return t;
    return nullptr;
}

const Technique& technique(const std::string& name)
{
    if (const Technique* t = findTechnique(name))
        return *t;
    fail("unknown technique '" + name + "'; choose one of " + util::joinList(techniqueNames()));
}

} // namespace ft::peft
