#include "align/objective_schema.h"
#include "train/run_config.h"

namespace ft::align {

// Each objective's descriptor file defines it (align/objective_schema.h).
const ObjectiveSchema& rewardSchema();
const ObjectiveSchema& dpoSchema();
const ObjectiveSchema& ipoSchema();
const ObjectiveSchema& simpoSchema();
const ObjectiveSchema& orpoSchema();
const ObjectiveSchema& ktoSchema();
const ObjectiveSchema& grpoSchema();
const ObjectiveSchema& ppoSchema();
const ObjectiveSchema& rlvrSchema();

} // namespace ft::align

namespace ft::train {

const ObjectiveSchema& sftSchema();

// The one list of objectives, in the order menus and `train --schema` show them; each
// one's trainer is listed under the same name in engine/objective_registry.cpp.
const std::vector<ObjectiveSchema>& objectiveSchemas()
{
    static const std::vector<ObjectiveSchema> list = {
        sftSchema(),         align::rewardSchema(), align::dpoSchema(),  align::ipoSchema(), align::simpoSchema(),
        align::orpoSchema(), align::ktoSchema(),    align::grpoSchema(), align::ppoSchema(), align::rlvrSchema(),
    };
    return list;
}

const ObjectiveSchema* findObjective(const std::string& name)
{
    for (const ObjectiveSchema& o : objectiveSchemas())
        if (o.name == name)
            return &o;
    return nullptr;
}

} // namespace ft::train
