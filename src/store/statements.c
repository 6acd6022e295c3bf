/*
 * Every SQL statement of kortisto, indexed by enum stmt_id. Static text with bound
 * parameters only; every personal-data statement filters by register_id. When PostgreSQL
 * arrives, a second column of this table holds its dialect under the same id.
 */
#include "store/statements.h"

static const char *const stmt_text[ST__MAX] = {
        [ST_TX_BEGIN] = "BEGIN",
        [ST_TX_BEGIN_IMMEDIATE] = "BEGIN IMMEDIATE",
        [ST_TX_COMMIT] = "COMMIT",
        [ST_TX_ROLLBACK] = "ROLLBACK",
        [ST_TX_SAVEPOINT] = "SAVEPOINT part",
        [ST_TX_RELEASE] = "RELEASE part",
        [ST_TX_ROLLBACK_TO] = "ROLLBACK TO part",

        [ST_REG_GET] =
                "SELECT current_version, created_at, updated_at FROM registers WHERE id = ?1",
        [ST_REG_INSERT] = "INSERT INTO registers(id, current_version, created_at, updated_at)"
                          " VALUES (?1, ?2, ?3, ?3)",
        [ST_REG_SET_VERSION] = "UPDATE registers SET current_version = ?2, updated_at = ?3"
                               " WHERE id = ?1",
        [ST_REG_VERSION_INSERT] =
                "INSERT INTO register_versions(register_id, version, source, sha256, published,"
                " updated, loaded_at, loaded_by) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        [ST_REG_VERSION_LAST] = "SELECT version, sha256 FROM register_versions"
                                " WHERE register_id = ?1 ORDER BY version DESC LIMIT 1",
        [ST_REG_LIST] = "SELECT r.id, r.current_version, v.published, v.updated, v.loaded_at,"
                        " v.source FROM registers r JOIN register_versions v"
                        " ON v.register_id = r.id AND v.version = r.current_version ORDER BY r.id",
        [ST_REG_VERSIONS] = "SELECT version, published, updated, loaded_at, loaded_by, sha256"
                            " FROM register_versions WHERE register_id = ?1 ORDER BY version",
        [ST_REG_VERSION_GET] = "SELECT source, loaded_at FROM register_versions"
                               " WHERE register_id = ?1 AND version = ?2",

        [ST_REG_SIGNATURE] = "SELECT id, current_version FROM registers ORDER BY id",

        [ST_PERSON_INSERT] =
                "INSERT INTO persons(register_id, first_name, last_name, subject_group,"
                " legal_basis, source, hetu_enc, hetu_hash, hetu_masked, attrs,"
                " last_customer_event, created_at, updated_at, created_by, sealed)"
                " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?12, ?13, ?14)",
        [ST_PERSON_GET] = "SELECT id, first_name, last_name, subject_group, legal_basis, source,"
                          " status, hetu_enc, hetu_masked, attrs, last_customer_event, created_at,"
                          " updated_at, created_by, row_version, hetu_hash, sealed"
                          " FROM persons WHERE register_id = ?1 AND id = ?2",
        [ST_PERSON_UPDATE] = "UPDATE persons SET first_name = ?3, last_name = ?4,"
                             " subject_group = ?5, legal_basis = ?6, hetu_enc = ?7,"
                             " hetu_hash = ?8, hetu_masked = ?9, attrs = ?10,"
                             " last_customer_event = ?11, updated_at = ?12, sealed = ?13,"
                             " row_version = row_version + 1 WHERE register_id = ?1 AND id = ?2",
        [ST_PERSON_DELETE] = "DELETE FROM persons WHERE register_id = ?1 AND id = ?2",
        [ST_PERSON_BY_HETU] = "SELECT id FROM persons WHERE register_id = ?1 AND hetu_hash = ?2",
        [ST_PERSON_SUMMARY] = "SELECT id, first_name, last_name, subject_group, status"
                              " FROM persons WHERE register_id = ?1 AND id = ?2",
        /* ?4 (?5 in a search): the caller sees restricted and passivated persons. */
        [ST_PERSON_LIST] = "SELECT id, first_name, last_name, subject_group, status FROM persons"
                           " WHERE register_id = ?1 AND id > ?2 AND (?4 OR status = 'active')"
                           " ORDER BY id LIMIT ?3",
        [ST_PERSON_SEARCH] = "SELECT p.id, p.first_name, p.last_name, p.subject_group, p.status"
                             " FROM person_search s JOIN persons p ON p.id = s.rowid"
                             " WHERE person_search MATCH ?2 AND s.rowid > ?3 AND p.register_id = ?1"
                             " AND (?5 OR p.status = 'active') ORDER BY s.rowid LIMIT ?4",
        [ST_PERSON_SEARCH_INSERT] = "INSERT INTO person_search(rowid, body) VALUES (?1, ?2)",
        [ST_PERSON_SEARCH_DELETE] = "DELETE FROM person_search WHERE rowid = ?1",

        [ST_CP_LIST] = "SELECT kind, value, source, collected_at, collected_by FROM contact_points"
                       " WHERE register_id = ?1 AND person_id = ?2 ORDER BY kind",
        /* Two statements rather than an upsert: SQLite 3.40 builds a temporary b-tree for
         * every ON CONFLICT DO UPDATE, which made it the most expensive write of an import. */
        [ST_CP_INSERT] = "INSERT INTO contact_points(register_id, person_id, kind, value, source,"
                         " collected_at, collected_by) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        [ST_CP_UPDATE] = "UPDATE contact_points SET value = ?4, source = ?5, collected_at = ?6,"
                         " collected_by = ?7 WHERE register_id = ?1 AND person_id = ?2"
                         " AND kind = ?3",
        [ST_CP_DELETE] = "DELETE FROM contact_points WHERE register_id = ?1 AND person_id = ?2"
                         " AND kind = ?3",
        [ST_CP_FIND] = "SELECT person_id FROM contact_points WHERE register_id = ?1 AND kind = ?2"
                       " AND value = ?3 ORDER BY person_id LIMIT 1",

        [ST_ORG_INSERT] = "INSERT INTO organisations(register_id, name, ytunnus, department,"
                          " postal_address, postal_code, postal_city, visiting_address, website,"
                          " source, created_at, updated_at, created_by)"
                          " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?11, ?12)",
        [ST_ORG_GET] =
                "SELECT id, name, ytunnus, department, postal_address, postal_code,"
                " postal_city, visiting_address, website, source, created_at, updated_at,"
                " created_by, row_version FROM organisations WHERE register_id = ?1 AND id = ?2",
        [ST_ORG_UPDATE] = "UPDATE organisations SET name = ?3, ytunnus = ?4, department = ?5,"
                          " postal_address = ?6, postal_code = ?7, postal_city = ?8,"
                          " visiting_address = ?9, website = ?10, updated_at = ?11,"
                          " row_version = row_version + 1 WHERE register_id = ?1 AND id = ?2",
        [ST_ORG_DELETE] = "DELETE FROM organisations WHERE register_id = ?1 AND id = ?2",
        [ST_ORG_LIST] = "SELECT id, name, ytunnus, department FROM organisations"
                        " WHERE register_id = ?1 AND id > ?2 ORDER BY id LIMIT ?3",
        [ST_ORG_SEARCH] = "SELECT o.id, o.name, o.ytunnus, o.department"
                          " FROM org_search s JOIN organisations o ON o.id = s.rowid"
                          " WHERE org_search MATCH ?2 AND s.rowid > ?3 AND o.register_id = ?1"
                          " ORDER BY s.rowid LIMIT ?4",
        [ST_ORG_SEARCH_INSERT] = "INSERT INTO org_search(rowid, body) VALUES (?1, ?2)",
        [ST_ORG_SEARCH_DELETE] = "DELETE FROM org_search WHERE rowid = ?1",
        [ST_ORG_BY_YTUNNUS] = "SELECT id FROM organisations WHERE register_id = ?1 AND ytunnus = ?2"
                              " AND department IS ?3 ORDER BY id LIMIT 1",
        [ST_ORG_BY_NAME] = "SELECT id FROM organisations WHERE register_id = ?1 AND name = ?2"
                           " ORDER BY id LIMIT 1",

        [ST_ORG_DUPLICATE] = "SELECT id FROM organisations WHERE register_id = ?1"
                             " AND ytunnus = ?2 AND department IS ?3 AND id <> ?4 LIMIT 1",

        [ST_AFF_INSERT] = "INSERT INTO affiliations(register_id, person_id, org_id, title,"
                          " start_date, end_date, end_reason, created_at, updated_at)"
                          " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)",
        [ST_AFF_GET] = "SELECT id, person_id, org_id, title, start_date, end_date, end_reason,"
                       " created_at, updated_at, row_version FROM affiliations"
                       " WHERE register_id = ?1 AND id = ?2",
        [ST_AFF_UPDATE] = "UPDATE affiliations SET title = ?3, start_date = ?4, end_date = ?5,"
                          " end_reason = ?6, updated_at = ?7, row_version = row_version + 1"
                          " WHERE register_id = ?1 AND id = ?2",
        [ST_AFF_DELETE] = "DELETE FROM affiliations WHERE register_id = ?1 AND id = ?2",
        /* ?6 = 0: only affiliations of active persons (R-09, roles below manager). */
        [ST_AFF_LIST] = "SELECT id, person_id, org_id, title, start_date, end_date, end_reason"
                        " FROM affiliations a WHERE register_id = ?1 AND id > ?2"
                        " AND (?3 IS NULL OR person_id = ?3) AND (?4 IS NULL OR org_id = ?4)"
                        " AND (?6 OR (SELECT status FROM persons p WHERE p.id = a.person_id)"
                        " = 'active') ORDER BY id LIMIT ?5",
        [ST_AFF_BY_PERSON] = "SELECT a.id, a.org_id, o.name, a.title, a.start_date, a.end_date,"
                             " a.end_reason FROM affiliations a JOIN organisations o"
                             " ON o.id = a.org_id WHERE a.register_id = ?1 AND a.person_id = ?2"
                             " ORDER BY a.id",
        /* +org_id: a person has few affiliations, an organisation may have thousands. */
        [ST_AFF_FIND] = "SELECT id FROM affiliations WHERE register_id = ?1 AND person_id = ?2"
                        " AND +org_id = ?3 AND end_date IS NULL LIMIT 1",

        [ST_HISTORY_INSERT] = "INSERT INTO change_history(register_id, entity, entity_id, field,"
                              " old_value, new_value, actor, reason, at)"
                              " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        [ST_HISTORY_LIST] = "SELECT field, old_value, new_value, actor, reason, at"
                            " FROM change_history WHERE register_id = ?1 AND entity = ?2"
                            " AND entity_id = ?3 ORDER BY id",
        [ST_HISTORY_DELETE] = "DELETE FROM change_history WHERE register_id = ?1 AND entity = ?2"
                              " AND entity_id = ?3",
        [ST_HISTORY_DELETE_AFFILIATIONS] =
                "DELETE FROM change_history WHERE register_id = ?1 AND entity = 'affiliation'"
                " AND entity_id IN (SELECT id FROM affiliations WHERE +register_id = ?1"
                " AND (person_id = ?2 OR org_id = ?3))",
        [ST_MAINT_MARK] = "INSERT OR IGNORE INTO maintenance(task, since) VALUES (?1, ?2)",
        [ST_MAINT_PENDING] = "SELECT since FROM maintenance WHERE task = ?1",
        [ST_MAINT_DONE] = "DELETE FROM maintenance WHERE task = ?1",
        [ST_PERSON_SEARCH_OPTIMIZE] =
                "INSERT INTO person_search(person_search) VALUES ('optimize')",
        [ST_ORG_SEARCH_OPTIMIZE] = "INSERT INTO org_search(org_search) VALUES ('optimize')",

#include "store/stmt_account.inc"
#include "store/stmt_audit.inc"
#include "store/stmt_request.inc"
#include "store/stmt_export.inc"
#include "store/stmt_survey.inc"
#include "store/stmt_retention.inc"
#include "store/stmt_marketing.inc"
#include "store/stmt_event.inc"
#include "store/stmt_selfservice.inc"
#include "store/stmt_directory.inc"
#include "store/stmt_service.inc"
};

const char *stmt_sql(enum stmt_id id)
{
	return stmt_text[id];
}
