/*
 * The notice's standard texts, one row per message with its Finnish, Swedish and English
 * wording. Articles are cited as each language's official GDPR text cites them ("6 artiklan
 * 1 kohdan a alakohta", "artikel 6.1 a", "Article 6(1)(a)"). A unit test checks that every
 * row has all three.
 */
#include "decl/notice_text.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define T(fi, sv, en)                                                                              \
	{                                                                                          \
		fi, sv, en                                                                         \
	}

static const char *const msgs[NM__MAX][LANG__MAX] = {
        [NM_TITLE] = T("Tietosuojaseloste", "Dataskyddsbeskrivning", "Privacy notice"),
        [NM_LAW] = T("EU:n yleinen tietosuoja-asetus (2016/679), 13 ja 14 artikla",
                     "EU:s allmänna dataskyddsförordning (2016/679), artiklarna 13 och 14",
                     "EU General Data Protection Regulation (2016/679), Articles 13 and 14"),
        [NM_PUBLISHED] = T("Julkaistu", "Publicerad", "Published"),
        [NM_UPDATED] = T("Päivitetty", "Uppdaterad", "Updated"),
        [NM_VERSION] = T("Versio", "Version", "Version"),
        [NM_IN_FORCE_FROM] = T("voimassa alkaen", "gäller från", "in force from"),
        [NM_CONTENTS] = T("Sisällys", "Innehåll", "Contents"),
        [NM_LANGUAGE] = T("Kieli", "Språk", "Language"),
        [NM_IN_FINNISH] = T("(suomeksi)", "(på finska)", "(in Finnish)"),
        [NM_FALLBACK_NOTE] =
                T("Osa tästä selosteesta on saatavilla vain suomeksi; nämä kohdat on merkitty.",
                  "Delar av denna beskrivning finns endast på finska; de är märkta (på finska).",
                  "Parts of this notice are available in Finnish only; they are marked (in "
                  "Finnish)."),

        [NM_UNIT] = T("Yksikkö", "Enhet", "Unit"),
        [NM_YTUNNUS] = T("Y-tunnus", "FO-nummer", "Business ID"),
        [NM_ADDRESS] = T("Osoite", "Adress", "Address"),
        [NM_PHONE] = T("Puhelin", "Telefon", "Phone"),
        [NM_EMAIL] = T("Sähköposti", "E-post", "E-mail"),
        [NM_WEB] = T("Verkkosivut", "Webbplats", "Website"),

        [NM_H_CONTROLLER] = T("Rekisterinpitäjä", "Personuppgiftsansvarig", "Controller"),
        [NM_H_PERSONS] = T("Vastuu- ja yhteyshenkilöt", "Ansvariga personer och kontaktpersoner",
                           "Responsible and contact persons"),
        [NM_H_DPO] = T("Tietosuojavastaava", "Dataskyddsombud", "Data protection officer"),
        [NM_H_PURPOSES] = T("Käsittelyn tarkoitukset ja oikeusperusteet",
                            "Ändamålen med behandlingen och den rättsliga grunden",
                            "Purposes of processing and legal bases"),
        [NM_H_GROUPS] = T("Rekisteröityjen ryhmät", "Grupper av registrerade",
                          "Categories of data subjects"),
        [NM_H_CATEGORIES] = T("Henkilötietoryhmät", "Kategorier av personuppgifter",
                              "Categories of personal data"),
        [NM_H_SOURCES] = T("Tietolähteet", "Uppgiftskällor", "Sources of the data"),
        [NM_H_RECIPIENTS] =
                T("Vastaanottajat ja tietojen luovuttaminen",
                  "Mottagare och utlämnande av uppgifter", "Recipients and disclosures"),
        [NM_H_TRANSFERS] =
                T("Siirrot EU:n tai ETA:n ulkopuolelle", "Överföringar utanför EU eller EES",
                  "Transfers outside the EU or EEA"),
        [NM_H_RETENTION] = T("Säilytysajat", "Lagringstider", "Retention periods"),
        [NM_H_SECURITY] = T("Suojauksen periaatteet ja ylläpitojärjestelmät",
                            "Principer för skyddet av registret och system",
                            "Security principles and systems"),
        [NM_H_AUTOMATED] = T("Automaattinen päätöksenteko ja profilointi",
                             "Automatiserat beslutsfattande och profilering",
                             "Automated decision-making and profiling"),
        [NM_H_RIGHTS] = T("Rekisteröidyn oikeudet ja niiden käyttäminen",
                          "Den registrerades rättigheter och hur de utövas",
                          "Your rights and how to use them"),
        [NM_H_COMPLAINT] = T("Oikeus tehdä valitus valvontaviranomaiselle",
                             "Rätt att lämna klagomål till tillsynsmyndigheten",
                             "Right to lodge a complaint with a supervisory authority"),
        [NM_H_NOTES] = T("Muut tiedot", "Övriga uppgifter", "Other information"),

        [NM_RESPONSIBLE] = T("Vastuuhenkilö", "Ansvarig person", "Responsible person"),
        [NM_CONTACT] = T("Yhteyshenkilö", "Kontaktperson", "Contact person"),
        [NM_NO_CONTACTS] = T("Rekisteriasioissa voi ottaa yhteyttä vastuuhenkilöön.",
                             "I ärenden som gäller registret kan du kontakta den ansvariga "
                             "personen.",
                             "For matters concerning the register, contact the responsible "
                             "person."),

        [NM_PURPOSES_INTRO] = T("Henkilötietoja käsitellään seuraaviin tarkoituksiin:",
                                "Personuppgifterna behandlas för följande ändamål:",
                                "Personal data is processed for the following purposes:"),
        [NM_BASES_INTRO] = T("Käsittelyn oikeusperuste rekisteröityjen ryhmittäin (EU:n yleisen "
                             "tietosuoja-asetuksen 6 artiklan 1 kohta):",
                             "Rättslig grund för behandlingen per grupp av registrerade "
                             "(artikel 6.1 i EU:s allmänna dataskyddsförordning):",
                             "Legal basis of processing for each group of data subjects "
                             "(Article 6(1) of the General Data Protection Regulation):"),
        [NM_BASIS_A] = T("rekisteröidyn suostumus (6 artiklan 1 kohdan a alakohta)",
                         "den registrerades samtycke (artikel 6.1 a)",
                         "consent of the data subject (Article 6(1)(a))"),
        [NM_BASIS_B] = T("sopimuksen täytäntöönpano (6 artiklan 1 kohdan b alakohta)",
                         "fullgörande av ett avtal (artikel 6.1 b)",
                         "performance of a contract (Article 6(1)(b))"),
        [NM_BASIS_C] = T("rekisterinpitäjän lakisääteisen velvoitteen noudattaminen (6 artiklan "
                         "1 kohdan c alakohta)",
                         "en rättslig förpliktelse för den personuppgiftsansvarige "
                         "(artikel 6.1 c)",
                         "compliance with a legal obligation of the controller (Article "
                         "6(1)(c))"),
        [NM_BASIS_D] = T("rekisteröidyn tai toisen luonnollisen henkilön elintärkeiden etujen "
                         "suojaaminen (6 artiklan 1 kohdan d alakohta)",
                         "skydd av den registrerades eller en annan fysisk persons "
                         "grundläggande intressen (artikel 6.1 d)",
                         "protection of the vital interests of the data subject or another "
                         "natural person (Article 6(1)(d))"),
        [NM_BASIS_E] = T("yleisen edun mukaisen tehtävän suorittaminen tai rekisterinpitäjälle "
                         "kuuluvan julkisen vallan käyttäminen (6 artiklan 1 kohdan e alakohta)",
                         "en uppgift av allmänt intresse eller myndighetsutövning "
                         "(artikel 6.1 e)",
                         "a task carried out in the public interest or in the exercise of "
                         "official authority (Article 6(1)(e))"),
        [NM_BASIS_F] = T("rekisterinpitäjän tai kolmannen osapuolen oikeutettu etu (6 artiklan 1 "
                         "kohdan f alakohta)",
                         "den personuppgiftsansvariges eller en tredje parts berättigade "
                         "intresse (artikel 6.1 f)",
                         "the legitimate interests of the controller or a third party "
                         "(Article 6(1)(f))"),
        [NM_BASIS_LABEL] = T("Oikeusperuste", "Rättslig grund", "Legal basis"),
        [NM_PURPOSES_LABEL] = T("Tarkoitukset", "Ändamål", "Purposes"),
        [NM_INTEREST] = T("Oikeutettu etu", "Berättigat intresse", "Legitimate interest"),
        [NM_BASIS_AS_PUBLISHED] = T("Oikeusperusteen kuvaus",
                                    "Beskrivning av den rättsliga "
                                    "grunden",
                                    "The legal basis as the controller words it"),
        [NM_PROVISION] = T("Tietojen antamisen edellytykset", "Skyldighet att lämna uppgifter",
                           "Whether you must provide the data"),
        [NM_DIRECT_MARKETING_PURPOSE] =
                T("suoramarkkinointia", "direktmarknadsföring", "direct marketing"),

        [NM_CONCERNS_GROUPS] = T("Koskee ryhmiä", "Gäller grupperna", "Concerns"),
        [NM_ALL_GROUPS] = T("kaikkia rekisteröityjä", "alla registrerade", "all data subjects"),
        [NM_RECORDS_INTRO] = T("Lisäksi rekisteriin tallennetaan seuraavat tapahtumat ja "
                               "asiakirjat:",
                               "Dessutom registreras följande händelser och handlingar:",
                               "The register also keeps the following records:"),

        [NM_SK_SUBJECT] = T("Rekisteröidyltä itseltään", "Av den registrerade själv",
                            "From the data subject"),
        [NM_SK_PUBLIC] = T("Julkisista lähteistä", "Från offentliga källor", "From public sources"),
        [NM_SK_THIRD_PARTY] =
                T("Kolmansilta osapuolilta", "Från tredje parter", "From third parties"),
        [NM_SK_AUTHORITY] = T("Viranomaisilta", "Från myndigheter", "From authorities"),
        [NM_SK_GENERATED] = T("Rekisterinpitäjän omasta toiminnasta",
                              "Uppkommer i den personuppgiftsansvariges verksamhet",
                              "Created in the controller's own work"),

        [NM_RK_RECIPIENT] = T("Vastaanottaja", "Mottagare", "Recipient"),
        [NM_RK_PROCESSOR] = T("Henkilötietojen käsittelijä (rekisterinpitäjän lukuun)",
                              "Personuppgiftsbiträde (för den personuppgiftsansvariges räkning)",
                              "Processor (acting on the controller's behalf)"),
        [NM_RK_JOINT_CONTROLLER] =
                T("Yhteisrekisterinpitäjä", "Gemensamt personuppgiftsansvarig", "Joint controller"),
        [NM_RK_INTERNAL_SYSTEM] =
                T("Rekisterinpitäjän oma järjestelmä", "Den personuppgiftsansvariges eget system",
                  "A system of the controller's own"),
        [NM_NO_RECIPIENTS] = T("Tietoja ei luovuteta rekisterinpitäjän ulkopuolelle.",
                               "Uppgifterna lämnas inte ut utanför den personuppgiftsansvarige.",
                               "The data is not disclosed outside the controller."),
        [NM_DATA_DISCLOSED] =
                T("Luovutettavat tiedot", "Uppgifter som lämnas ut", "Data disclosed"),
        [NM_ALL_CATEGORIES] = T("kaikki henkilötietoryhmät", "alla kategorier av personuppgifter",
                                "all categories of personal data"),
        [NM_ON_REQUEST_ONLY] = T("Tietoja luovutetaan vain yksilöidystä pyynnöstä ja laissa "
                                 "säädetyn oikeuden perusteella.",
                                 "Uppgifter lämnas ut endast på en individuell begäran och med "
                                 "stöd av lag.",
                                 "Data is disclosed only on an individual request and on a "
                                 "basis given by law."),
        [NM_LEGAL_REFERENCES] = T("Säädösperusteet", "Rättsliga grunder", "Legal provisions"),
        [NM_FORBIDDEN_INTRO] = T("Tietoja ei koskaan luovuteta seuraaviin tarkoituksiin:",
                                 "Uppgifter lämnas aldrig ut för följande ändamål:",
                                 "The data is never disclosed for the following purposes:"),
        [NM_FP_DIRECT_MARKETING] =
                T("suoramarkkinointi", "direktmarknadsföring", "direct marketing"),
        [NM_FP_TELEMARKETING] = T("puhelinmyynti", "telefonförsäljning", "telemarketing"),
        [NM_FP_ADDRESS_SERVICE] = T("osoitepalvelut", "adresstjänster", "address services"),
        [NM_FP_MARKET_RESEARCH] =
                T("markkina- ja mielipidetutkimukset", "marknads- och opinionsundersökningar",
                  "market and opinion research"),

        [NM_NO_TRANSFERS] = T("Tietoja ei siirretä EU:n tai Euroopan talousalueen ulkopuolelle.",
                              "Uppgifterna överförs inte utanför EU eller Europeiska "
                              "ekonomiska samarbetsområdet.",
                              "The data is not transferred outside the EU or the European "
                              "Economic Area."),
        [NM_TRANSFERS_INTRO] = T("Tietoja siirretään EU:n tai ETA:n ulkopuolelle seuraavasti:",
                                 "Uppgifter överförs utanför EU eller EES enligt följande:",
                                 "Data is transferred outside the EU or EEA as follows:"),
        [NM_SAFEGUARD] = T("suojatoimet", "skyddsåtgärder", "safeguards"),

        [NM_RET_DELETE] = T("Tiedot poistetaan", "Uppgifterna raderas", "The data is deleted"),
        [NM_RET_ANONYMIZE] =
                T("Tiedot anonymisoidaan", "Uppgifterna anonymiseras", "The data is anonymised"),
        [NM_RET_PASSIVATE] =
                T("Tiedot passivoidaan", "Uppgifterna passiveras", "The data is passivated"),
        [NM_RET_ARCHIVE] = T("Tiedot arkistoidaan ja poistetaan sen jälkeen",
                             "Uppgifterna arkiveras och raderas därefter",
                             "The data is archived and then deleted"),
        [NM_RET_KEEP] = T("Tiedot säilytetään", "Uppgifterna sparas", "The data is kept"),
        [NM_RET_AFTER] = T("%s kuluttua %s", "%s efter %s", "%s after %s"),
        [NM_FROM_LAST_EVENT] = T("viimeisestä asiakastapahtumasta", "den senaste kundhändelsen",
                                 "the last customer event"),
        [NM_FROM_CREATED] = T("tallentamisesta", "registreringen", "they were recorded"),
        [NM_FROM_AFFILIATION_END] = T("työ- tai palvelussuhteen päättymisestä",
                                      "att anställningen eller uppdraget upphörde",
                                      "the person's employment or role ended"),
        [NM_FROM_CONSENT_WITHDRAWN] = T("suostumuksen peruuttamisesta",
                                        "att samtycket återkallades", "consent was withdrawn"),
        [NM_FROM_FIELD] =
                T("tiedon ”%s” päivämäärästä", "datumet i uppgiften ”%s”", "the date in “%s”"),
        [NM_NOW_LAST_EVENT] = T("heti viimeisen asiakastapahtuman jälkeen",
                                "genast efter den senaste kundhändelsen",
                                "immediately after the last customer event"),
        [NM_NOW_CREATED] = T("heti tallentamisen jälkeen", "genast efter registreringen",
                             "immediately after they are recorded"),
        [NM_NOW_AFFILIATION_END] = T("heti, kun tieto työ- tai palvelussuhteen päättymisestä "
                                     "on saatu",
                                     "genast när uppgiften om att anställningen eller uppdraget "
                                     "upphört har mottagits",
                                     "as soon as the end of the person's employment or role is "
                                     "known"),
        [NM_NOW_CONSENT_WITHDRAWN] =
                T("heti suostumuksen peruuttamisen jälkeen", "genast när samtycket återkallas",
                  "as soon as consent is withdrawn"),
        [NM_NOW_FIELD] =
                T("tiedon ”%s” päivämääränä", "på datumet i uppgiften ”%s”", "on the date in “%s”"),
        [NM_UNTIL_REQUEST] = T("Tiedot säilytetään, kunnes rekisteröity pyytää niiden "
                               "poistamista.",
                               "Uppgifterna sparas tills den registrerade begär att de raderas.",
                               "The data is kept until the data subject asks for its "
                               "erasure."),
        [NM_RET_GROUPS] = T("Koskee ryhmiä", "Gäller grupperna", "Applies to"),
        [NM_RET_RECORDS] = T("Koskee tietoja", "Gäller uppgifterna", "Applies to the records"),
        [NM_RET_EXCEPT] = T("Ei koske", "Gäller inte", "Does not apply to"),
        [NM_RET_ONLY] = T("Koskee vain", "Gäller endast", "Applies only to"),
        [NM_RETENTION_PLAN] = T("Säilytysajat perustuvat asiakirjaan", "Lagringstiderna följer",
                                "Retention periods follow"),

        [NM_YEAR_1] = T("vuoden", "ett år", "one year"),
        [NM_YEARS] = T("%d vuoden", "%d år", "%d years"),
        [NM_MONTH_1] = T("kuukauden", "en månad", "one month"),
        [NM_MONTHS] = T("%d kuukauden", "%d månader", "%d months"),
        [NM_DAY_1] = T("päivän", "en dag", "one day"),
        [NM_DAYS] = T("%d päivän", "%d dagar", "%d days"),
        [NM_AND] = T("ja", "och", "and"),

        [NM_SYSTEMS_INTRO] = T("Rekisteriä ylläpidetään seuraavissa järjestelmissä:",
                               "Registret förs i följande system:",
                               "The register is kept in the following systems:"),
        [NM_MANUAL] = T("Manuaalinen aineisto", "Manuellt material", "Manual records"),
        [NM_ELECTRONIC] = T("Sähköisesti käsiteltävät tiedot", "Elektroniskt behandlade uppgifter",
                            "Electronically processed data"),
        [NM_MEASURES] = T("Suojaustoimet", "Skyddsåtgärder", "Security measures"),
        [NM_BY_CONSTRUCTION] = T("Henkilötietoja käsittelevät vain nimetyt käyttäjät "
                                 "tehtäviensä edellyttämässä laajuudessa ja sitouduttuaan "
                                 "salassapitoon. Jokainen henkilötietojen käyttö kirjataan "
                                 "käyttölokiin.",
                                 "Personuppgifterna behandlas endast av namngivna användare i "
                                 "den omfattning deras uppgifter kräver och efter att de "
                                 "förbundit sig till sekretess. Varje användning av "
                                 "personuppgifter loggas.",
                                 "Personal data is processed only by named users, to the extent "
                                 "their tasks require and after they have committed to "
                                 "confidentiality. Every use of personal data is logged."),

        [NM_NO_ADM] = T("Tietoja ei käytetä automaattiseen päätöksentekoon (22 artikla).",
                        "Uppgifterna används inte för automatiserat beslutsfattande "
                        "(artikel 22).",
                        "The data is not used for automated decision-making (Article 22)."),
        [NM_ADM_USED] = T("Automaattinen päätöksenteko", "Automatiserat beslutsfattande",
                          "Automated decision-making"),
        [NM_NO_PROFILING] =
                T("Tietoja ei käytetä profilointiin.", "Uppgifterna används inte för profilering.",
                  "The data is not used for profiling."),
        [NM_PROFILING_USED] = T("Profilointi", "Profilering", "Profiling"),

        [NM_R_ACCESS] = T("Oikeus saada pääsy tietoihin (15 artikla)",
                          "Rätt till tillgång (artikel 15)", "Right of access (Article 15)"),
        [NM_R_ACCESS_TEXT] = T("Sinulla on oikeus saada tietää, käsitelläänkö sinua koskevia "
                               "henkilötietoja, ja saada niistä jäljennös maksutta.",
                               "Du har rätt att få veta om personuppgifter om dig behandlas och "
                               "att kostnadsfritt få en kopia av dem.",
                               "You have the right to know whether personal data about you is "
                               "processed and to receive a copy of it free of charge."),
        [NM_R_RECTIFY] =
                T("Oikeus tietojen oikaisemiseen (16 artikla)", "Rätt till rättelse (artikel 16)",
                  "Right to rectification (Article 16)"),
        [NM_R_RECTIFY_TEXT] = T("Sinulla on oikeus vaatia virheellisten, epätarkkojen tai "
                                "vanhentuneiden tietojen korjaamista ja puutteellisten tietojen "
                                "täydentämistä.",
                                "Du har rätt att få felaktiga, inexakta eller inaktuella "
                                "uppgifter rättade och ofullständiga uppgifter kompletterade.",
                                "You have the right to have inaccurate or outdated data "
                                "corrected and incomplete data completed."),
        [NM_R_ERASE] = T("Oikeus tietojen poistamiseen (17 artikla)",
                         "Rätt till radering (artikel 17)", "Right to erasure (Article 17)"),
        [NM_R_ERASE_TEXT] = T("Sinulla on oikeus pyytää tietojesi poistamista (”oikeus tulla "
                              "unohdetuksi”).",
                              "Du har rätt att begära att dina uppgifter raderas (”rätten att "
                              "bli bortglömd”).",
                              "You have the right to ask for your data to be erased (“the "
                              "right to be forgotten”)."),
        [NM_R_ERASE_EXCEPTION] = T("Oikeus ei koske tietoja, joita on säilytettävä "
                                   "lakisääteisen velvoitteen tai yleisen edun mukaisen "
                                   "tehtävän vuoksi (17 artiklan 3 kohta). Tällaisia ovat "
                                   "ryhmät:",
                                   "Rätten gäller inte uppgifter som måste bevaras på grund av "
                                   "en rättslig förpliktelse eller en uppgift av allmänt "
                                   "intresse (artikel 17.3). Det gäller grupperna:",
                                   "The right does not cover data that must be kept for a legal "
                                   "obligation or a task in the public interest (Article "
                                   "17(3)). This concerns:"),
        [NM_R_ERASE_NONE] = T("Kaikkien ryhmien tietoja käsitellään lakisääteisen velvoitteen "
                              "tai yleisen edun mukaisen tehtävän perusteella, joten poisto-"
                              "oikeus ei koske niitä sinä aikana, jona niitä on säilytettävä "
                              "(17 artiklan 3 kohta).",
                              "Alla gruppers uppgifter behandlas på grund av en rättslig "
                              "förpliktelse eller en uppgift av allmänt intresse, och rätten "
                              "till radering gäller dem inte så länge de måste bevaras "
                              "(artikel 17.3).",
                              "All groups' data is processed for a legal obligation or a task "
                              "in the public interest, so the right to erasure does not cover "
                              "it while it must be kept (Article 17(3))."),
        [NM_R_PASSIVATE_TEXT] = T("Poistopyynnön jälkeen tietosi passivoidaan: henkilötiedot "
                                  "poistetaan, ja jäljelle jää vain tunniste, jolla estetään "
                                  "tietojesi kerääminen uudelleen esimerkiksi julkisista "
                                  "lähteistä. Passivoituja tietoja ei käytetä mihinkään "
                                  "muuhun.",
                                  "Efter en begäran om radering passiveras dina uppgifter: "
                                  "personuppgifterna raderas och endast en identifierare "
                                  "sparas, som hindrar att dina uppgifter samlas in på nytt "
                                  "till exempel från offentliga källor. Den används inte för "
                                  "något annat.",
                                  "After a request for erasure your data is passivated: the "
                                  "personal data is deleted and only an identifier remains, "
                                  "which prevents your data from being collected again, for "
                                  "example from public sources. It is used for nothing else."),
        [NM_R_RESTRICT] = T("Oikeus käsittelyn rajoittamiseen (18 artikla)",
                            "Rätt till begränsning av behandling (artikel 18)",
                            "Right to restriction of processing (Article 18)"),
        [NM_R_RESTRICT_TEXT] = T("Sinulla on oikeus pyytää käsittelyn rajoittamista esimerkiksi "
                                 "siksi aikaa, kun kiistämiesi tietojen paikkansapitävyyttä "
                                 "tarkistetaan.",
                                 "Du har rätt att begära att behandlingen begränsas, till "
                                 "exempel medan riktigheten av uppgifter som du bestrider "
                                 "kontrolleras.",
                                 "You have the right to have processing restricted, for "
                                 "example while the accuracy of data you contest is "
                                 "verified."),
        [NM_R_PORTABILITY] = T("Oikeus siirtää tiedot järjestelmästä toiseen (20 artikla)",
                               "Rätt till dataportabilitet (artikel 20)",
                               "Right to data portability (Article 20)"),
        [NM_R_PORTABILITY_TEXT] = T("Sinulla on oikeus saada itse toimittamasi tiedot "
                                    "jäsennellyssä, yleisesti käytetyssä ja koneellisesti "
                                    "luettavassa muodossa ja siirtää ne toiselle "
                                    "rekisterinpitäjälle. Oikeus koskee suostumukseen tai "
                                    "sopimukseen perustuvaa käsittelyä, tässä rekisterissä "
                                    "ryhmiä:",
                                    "Du har rätt att få de uppgifter som du själv lämnat i ett "
                                    "strukturerat, allmänt använt och maskinläsbart format och "
                                    "att överföra dem till en annan personuppgiftsansvarig. "
                                    "Rätten gäller behandling som grundar sig på samtycke eller "
                                    "avtal, i detta register grupperna:",
                                    "You have the right to receive the data you provided in a "
                                    "structured, commonly used and machine-readable format and "
                                    "to transmit it to another controller. The right applies to "
                                    "processing based on consent or a contract; in this "
                                    "register it concerns:"),
        [NM_R_OBJECT] =
                T("Oikeus vastustaa käsittelyä (21 artikla)",
                  "Rätt att göra invändningar (artikel 21)", "Right to object (Article 21)"),
        [NM_R_OBJECT_TEXT] = T("Sinulla on oikeus erityiseen tilanteeseesi liittyvällä "
                               "perusteella vastustaa käsittelyä, joka perustuu yleisen edun "
                               "mukaiseen tehtävään tai oikeutettuun etuun. Oikeus koskee "
                               "ryhmiä:",
                               "Du har rätt att av skäl som hänför sig till din särskilda "
                               "situation invända mot behandling som grundar sig på en uppgift "
                               "av allmänt intresse eller på berättigat intresse. Rätten gäller "
                               "grupperna:",
                               "You have the right to object, on grounds relating to your "
                               "particular situation, to processing based on a task in the "
                               "public interest or on legitimate interests. This concerns:"),
        [NM_R_OBJECT_DM] = T("Sinulla on aina oikeus kieltää tietojesi käyttö "
                             "suoramarkkinointiin (21 artiklan 2 ja 3 kohta). Kiellon jälkeen "
                             "tietojasi ei käytetä suoramarkkinointiin.",
                             "Du har alltid rätt att motsätta dig att dina uppgifter används "
                             "för direktmarknadsföring (artikel 21.2 och 21.3). Därefter används "
                             "de inte för direktmarknadsföring.",
                             "You may always object to the use of your data for direct "
                             "marketing (Article 21(2) and (3)). After that it is not used for "
                             "direct marketing."),
        [NM_R_WITHDRAW] = T("Oikeus peruuttaa suostumus (7 artiklan 3 kohta)",
                            "Rätt att återkalla samtycke (artikel 7.3)",
                            "Right to withdraw consent (Article 7(3))"),
        [NM_R_WITHDRAW_TEXT] = T("Voit peruuttaa suostumuksesi milloin tahansa. Peruuttaminen "
                                 "ei vaikuta sitä ennen tapahtuneen käsittelyn "
                                 "lainmukaisuuteen.",
                                 "Du kan när som helst återkalla ditt samtycke. Återkallelsen "
                                 "påverkar inte lagligheten av behandlingen innan dess.",
                                 "You may withdraw your consent at any time. Withdrawal does not "
                                 "affect the lawfulness of processing before it."),
        [NM_R_ADM] = T("Oikeus olla joutumatta automaattisen päätöksenteon kohteeksi (22 "
                       "artikla)",
                       "Rätt att inte bli föremål för automatiserat beslutsfattande "
                       "(artikel 22)",
                       "Right not to be subject to automated decision-making (Article 22)"),
        [NM_R_ADM_TEXT] = T("Sinulla on oikeus vaatia, että ihminen arvioi sinua koskevan "
                            "automaattisesti tehdyn päätöksen, esittää kantasi ja riitauttaa "
                            "päätöksen.",
                            "Du har rätt att kräva att en människa prövar ett automatiserat "
                            "beslut om dig, att framföra din synpunkt och att bestrida "
                            "beslutet.",
                            "You have the right to have an automated decision about you "
                            "reviewed by a person, to express your view and to contest the "
                            "decision."),
        [NM_R_HOW] = T("Oikeuksien käyttäminen", "Hur du utövar dina rättigheter",
                       "How to use your rights"),
        [NM_R_CHANNEL] = T("Pyynnön tekeminen", "Så här gör du en begäran", "How to ask"),
        [NM_R_IDENTITY] =
                T("Henkilöllisyyden varmistaminen", "Kontroll av identitet", "Proof of identity"),
        [NM_R_DEADLINE] = T("Pyyntöön vastataan ilman aiheetonta viivytystä ja viimeistään %s "
                            "kuluessa sen vastaanottamisesta. Määräaikaa voidaan pyyntöjen "
                            "monimutkaisuuden ja määrän vuoksi jatkaa enintään kahdella "
                            "kuukaudella, jolloin jatkamisesta ja sen syistä ilmoitetaan "
                            "ensimmäisen määräajan kuluessa (12 artiklan 3 kohta).",
                            "Din begäran besvaras utan onödigt dröjsmål och senast inom %s från "
                            "att den togs emot. Tiden kan förlängas med högst två månader om "
                            "begärandena är komplicerade eller många; i så fall meddelas du om "
                            "förlängningen och skälen till den inom den första tidsfristen "
                            "(artikel 12.3).",
                            "Your request is answered without undue delay and within %s of its "
                            "receipt. The period may be extended by up to two further months "
                            "where requests are complex or numerous; you are then told of the "
                            "extension and its reasons within the first period (Article "
                            "12(3))."),
        [NM_R_FREE] = T("Oikeuksien käyttäminen on maksutonta. Jos pyynnöt ovat ilmeisen "
                        "perusteettomia tai kohtuuttomia, erityisesti toistuvia, "
                        "rekisterinpitäjä voi periä kohtuullisen maksun tai kieltäytyä "
                        "toimenpiteestä (12 artiklan 5 kohta).",
                        "Det är kostnadsfritt att utöva rättigheterna. Om en begäran är "
                        "uppenbart ogrundad eller orimlig, särskilt om den upprepas, får den "
                        "personuppgiftsansvarige ta ut en rimlig avgift eller vägra att "
                        "tillmötesgå den (artikel 12.5).",
                        "Using your rights is free of charge. Where requests are manifestly "
                        "unfounded or excessive, in particular because they are repeated, the "
                        "controller may charge a reasonable fee or refuse to act (Article "
                        "12(5))."),
        [NM_R_REFUSAL] = T("Jos pyyntöön ei suostuta, saat kirjallisen vastauksen, jossa "
                           "kerrotaan syyt ja oikeutesi tehdä valitus valvontaviranomaiselle.",
                           "Om din begäran inte tillmötesgås får du ett skriftligt svar med "
                           "skälen och information om din rätt att klaga hos "
                           "tillsynsmyndigheten.",
                           "If your request is refused, you receive a written answer with the "
                           "reasons and your right to complain to the supervisory authority."),
        [NM_R_FURTHER] = T("Rekisterinpitäjän lisätiedot oikeuksista",
                           "Den personuppgiftsansvariges tilläggsuppgifter om rättigheterna",
                           "Further information from the controller"),
        [NM_R_CONTROLLER_CONTACT] = T("Pyynnöt osoitetaan rekisterinpitäjälle (kohta 1) tai "
                                      "kohdassa 2 nimetylle henkilölle.",
                                      "Begäranden riktas till den personuppgiftsansvarige "
                                      "(punkt 1) eller till personen som nämns i punkt 2.",
                                      "Send requests to the controller (section 1) or to the "
                                      "person named in section 2."),

        [NM_COMPLAINT_TEXT] = T("Jos katsot, että henkilötietojesi käsittelyssä rikotaan EU:n "
                                "yleistä tietosuoja-asetusta, sinulla on oikeus tehdä valitus "
                                "valvontaviranomaiselle (77 artikla):",
                                "Om du anser att behandlingen av dina personuppgifter strider "
                                "mot EU:s allmänna dataskyddsförordning har du rätt att lämna "
                                "in ett klagomål till tillsynsmyndigheten (artikel 77):",
                                "If you consider that the processing of your personal data "
                                "infringes the General Data Protection Regulation, you have the "
                                "right to lodge a complaint with the supervisory authority "
                                "(Article 77):"),

        [NM_VERSIONS] = T("Versiohistoria", "Versionshistorik", "Version history"),
        [NM_CHANGES] = T("Muutokset versioon %d verrattuna", "Ändringar jämfört med version %d",
                         "Changes since version %d"),
        [NM_ADDED] = T("Lisätty", "Tillagt", "Added"),
        [NM_REMOVED] = T("Poistettu", "Borttaget", "Removed"),
        [NM_NO_CHANGES] = T("Selosteen sisältö ei muuttunut.", "Innehållet har inte ändrats.",
                            "The content of the notice did not change."),

        [NM_ROP_TITLE] = T("Seloste käsittelytoimista", "Register över behandling",
                           "Record of processing activities"),
        [NM_ROP_LAW] = T("EU:n yleisen tietosuoja-asetuksen 30 artiklan 1 kohta",
                         "Artikel 30.1 i EU:s allmänna dataskyddsförordning",
                         "Article 30(1) of the General Data Protection Regulation"),
        [NM_ROP_CONTROLLER] = T("Rekisterinpitäjä ja yhteystiedot (a)",
                                "Personuppgiftsansvarig och kontaktuppgifter (a)",
                                "Controller and contact details (a)"),
        [NM_ROP_PURPOSES] = T("Käsittelyn tarkoitukset (b)", "Ändamål med behandlingen (b)",
                              "Purposes of the processing (b)"),
        [NM_ROP_GROUPS] = T("Rekisteröityjen ryhmät (c)", "Kategorier av registrerade (c)",
                            "Categories of data subjects (c)"),
        [NM_ROP_CATEGORIES] = T("Henkilötietoryhmät (c)", "Kategorier av personuppgifter (c)",
                                "Categories of personal data (c)"),
        [NM_ROP_RECIPIENTS] = T("Vastaanottajien ryhmät (d)", "Kategorier av mottagare (d)",
                                "Categories of recipients (d)"),
        [NM_ROP_TRANSFERS] = T("Siirrot kolmansiin maihin (e)",
                               "Överföringar till tredjeländer "
                               "(e)",
                               "Transfers to third countries (e)"),
        [NM_ROP_RETENTION] = T("Poistamisen määräajat (f)", "Tidsfrister för radering (f)",
                               "Time limits for erasure (f)"),
        [NM_ROP_SECURITY] = T("Tekniset ja organisatoriset turvatoimet (g)",
                              "Tekniska och organisatoriska säkerhetsåtgärder (g)",
                              "Technical and organisational security measures (g)"),
        [NM_ROP_REGISTER] = T("Rekisteri", "Register", "Register"),
        [NM_ROP_NOTICE] = T("Tietosuojaseloste", "Dataskyddsbeskrivning", "Privacy notice"),

        [NM_X_KIND] = T("Kopio henkilötiedoistasi", "Kopia av dina personuppgifter",
                        "Copy of your personal data"),
        [NM_X_LAW] = T("EU:n yleinen tietosuoja-asetus (2016/679), 15 artikla: rekisteröidyn "
                       "oikeus saada pääsy tietoihin",
                       "EU:s allmänna dataskyddsförordning (2016/679), artikel 15: den "
                       "registrerades rätt till tillgång",
                       "EU General Data Protection Regulation (2016/679), Article 15: right of "
                       "access by the data subject"),
        [NM_X_PORTABLE_LAW] = T("EU:n yleinen tietosuoja-asetus (2016/679), 20 artikla: oikeus "
                                "siirtää tiedot järjestelmästä toiseen",
                                "EU:s allmänna dataskyddsförordning (2016/679), artikel 20: rätt "
                                "till dataportabilitet",
                                "EU General Data Protection Regulation (2016/679), Article 20: "
                                "right to data portability"),
        [NM_X_REGISTER] = T("Rekisteri", "Register", "Register"),
        [NM_X_REGISTERS_OTHER] =
                T("Myös rekistereissä", "Även i registren", "Also in the registers"),
        [NM_X_GENERATED] = T("Laadittu", "Upprättad", "Prepared"),
        [NM_X_INTRO] =
                T("Tässä ovat kaikki tiedot, jotka rekisterissä on sinusta, ja tiedot niiden "
                  "käsittelystä. Henkilötunnus ja muut salassa pidettävät tiedot näkyvät "
                  "kokonaisina, koska kopio on tarkoitettu vain sinulle: säilytä se huolellisesti.",
                  "Här finns alla uppgifter som registret har om dig och information om hur de "
                  "behandlas. Personbeteckningen och andra skyddade uppgifter visas i sin helhet, "
                  "eftersom kopian endast är avsedd för dig: förvara den omsorgsfullt.",
                  "Here is all the data the register holds about you, and how it is processed. The "
                  "personal identity code and other protected data are shown in full, because this "
                  "copy is meant for you alone: keep it safe."),
        [NM_X_H_DATA] = T("Sinusta tallennetut tiedot", "Uppgifter som sparats om dig",
                          "Data held about you"),
        [NM_X_H_CONTACTS] = T("Yhteystiedot", "Kontaktuppgifter", "Contact details"),
        [NM_X_H_AFFILIATIONS] = T("Organisaatiot ja tehtävät", "Organisationer och befattningar",
                                  "Organisations and positions"),
        [NM_X_H_HISTORY] =
                T("Tietojen muutokset", "Ändringar av uppgifterna", "Changes to the data"),
        [NM_X_H_DISCLOSURES] =
                T("Tietojen luovutukset", "Utlämnanden av uppgifterna", "Disclosures of the data"),
        [NM_X_H_USAGE] =
                T("Tietojesi käyttö", "Användningen av dina uppgifter", "Use of your data"),
        [NM_X_USAGE_INTRO] = T(
                "Käyttöloki kertoo, milloin ja kuka on katsonut, hakenut tai muuttanut tietojasi.",
                "Användningsloggen visar när och av vem dina uppgifter har visats, sökts eller "
                "ändrats.",
                "The usage log shows when, and by whom, your data was viewed, searched or "
                "changed."),
        [NM_X_H_PROCESSING] =
                T("Tietoja käsittelystä", "Information om behandlingen", "About the processing"),
        [NM_X_PROCESSING_INTRO] = T("Seuraavat tiedot ovat rekisterin tietosuojaselosteesta (15 "
                                    "artiklan 1 kohdan a–h alakohta).",
                                    "Följande uppgifter är hämtade ur registrets "
                                    "dataskyddsbeskrivning (artikel 15.1 a–h).",
                                    "The following is taken from the register's privacy notice "
                                    "(Article 15(1)(a)–(h))."),
        [NM_X_NONE] = T("Ei tietoja.", "Inga uppgifter.", "None."),
        [NM_X_FIELD] = T("Tieto", "Uppgift", "Item"),
        [NM_X_VALUE] = T("Arvo", "Värde", "Value"),
        [NM_X_SOURCE] = T("Lähde", "Källa", "Source"),
        [NM_X_COLLECTED] = T("Kerätty", "Insamlad", "Collected"),
        [NM_X_TIME] = T("Aika", "Tid", "Time"),
        [NM_X_OLD] = T("Aiempi arvo", "Tidigare värde", "Previous value"),
        [NM_X_NEW] = T("Uusi arvo", "Nytt värde", "New value"),
        [NM_X_ACTOR] = T("Käyttäjä", "Användare", "User"),
        [NM_X_REASON] = T("Syy", "Orsak", "Reason"),
        [NM_X_ACTION] = T("Toimenpide", "Åtgärd", "Action"),
        [NM_X_PURPOSE] = T("Käyttötarkoitus", "Ändamål", "Purpose"),
        [NM_X_RECIPIENT] = T("Vastaanottaja", "Mottagare", "Recipient"),
        [NM_X_CATEGORIES] = T("Tietoryhmät", "Uppgiftskategorier", "Categories of data"),
        [NM_X_ORGANISATION] = T("Organisaatio", "Organisation", "Organisation"),
        [NM_X_POSITION] = T("Tehtävä", "Befattning", "Position"),
        [NM_X_START] = T("Alkoi", "Började", "Started"),
        [NM_X_END] = T("Päättyi", "Slutade", "Ended"),
        [NM_X_GROUP] =
                T("Rekisteröityjen ryhmä", "Grupp av registrerade", "Category of data subjects"),
        [NM_X_STATUS] = T("Tila", "Status", "Status"),
        [NM_X_CREATED] = T("Tallennettu", "Registrerad", "Recorded"),
        [NM_X_LAST_EVENT] =
                T("Viimeisin asiakastapahtuma", "Senaste kundhändelse", "Last customer event"),
        [NM_X_ID] = T("Tunniste rekisterissä", "Identifierare i registret",
                      "Identifier in the register"),
        [NM_X_ST_ACTIVE] = T("käytössä", "aktiv", "active"),
        [NM_X_ST_RESTRICTED] =
                T("käsittelyä rajoitettu", "behandlingen begränsad", "processing restricted"),
        [NM_X_ST_PASSIVATED] = T("passivoitu", "passiverad", "passivated"),
        [NM_X_A_READ] = T("katsoi tietoja", "visade uppgifterna", "viewed the data"),
        [NM_X_A_REVEAL] = T("katsoi salassa pidettäviä tietoja", "visade skyddade uppgifter",
                            "viewed protected data"),
        [NM_X_A_SEARCH] = T("haku, jonka tuloksissa olit", "sökning där du fanns bland resultaten",
                            "a search that listed you"),
        [NM_X_A_CREATE] = T("tallensi tiedot", "registrerade uppgifterna", "recorded the data"),
        [NM_X_A_UPDATE] = T("muutti tietoja", "ändrade uppgifterna", "changed the data"),
        [NM_X_A_DELETE] = T("poisti tietoja", "raderade uppgifter", "deleted data"),
        [NM_X_A_DISCLOSE] = T("luovutti tietoja", "lämnade ut uppgifter", "disclosed data"),
        [NM_X_A_EXPORT] = T("laati kopion tiedoista", "upprättade en kopia av uppgifterna",
                            "prepared a copy of the data"),
        [NM_X_P_REQUEST] = T("rekisteröidyn pyyntö saada tietonsa",
                             "den registrerades begäran om sina uppgifter",
                             "the data subject's request for their data"),
        [NM_X_H_CONSENTS] = T("Suostumukset", "Samtycken", "Consents"),
        [NM_X_H_SUBSCRIPTIONS] = T("Tilatut uutiskirjeet", "Prenumerationer på nyhetsbrev",
                                   "Newsletter subscriptions"),
        [NM_X_H_BANS] = T("Suoramarkkinointikiellot", "Förbud mot direktmarknadsföring",
                          "Direct marketing bans"),
        [NM_X_H_RECORDS] = T("Asiakastapahtumat ja asiointi", "Kundhändelser och ärenden",
                             "Customer events and services"),
        [NM_X_H_REQUESTS] =
                T("Aiemmat pyyntösi", "Dina tidigare begäranden", "Your earlier requests"),
        [NM_X_H_MAILINGS] =
                T("Sinulle lähetetyt viestit", "Utskick till dig", "Mailings sent to you"),
        [NM_X_H_REGISTRATIONS] = T("Ilmoittautumiset tapahtumiin", "Anmälningar till evenemang",
                                   "Event registrations"),
        [NM_X_H_ATTENDANCE] =
                T("Osallistuminen tapahtumien ohjelmaan", "Deltagande i evenemangens program",
                  "Attendance of event sessions"),
        [NM_X_H_MEETINGS] =
                T("Tapaamiset tapahtumissa", "Möten vid evenemang", "Meetings at events"),
        [NM_X_CHANNEL] = T("Kanava", "Kanal", "Channel"),
        [NM_X_TEXT] = T("Teksti ja versio", "Text och version", "Text and version"),
        [NM_X_GIVEN] = T("Annettu", "Givet", "Given"),
        [NM_X_WITHDRAWN] = T("Peruttu", "Återkallat", "Withdrawn"),
        [NM_X_LIST] = T("Lista", "Lista", "List"),
        [NM_X_TYPE] = T("Laji", "Typ", "Type"),
        [NM_X_DAY] = T("Päivä", "Dag", "Day"),
        [NM_X_CONTENT] = T("Sisältö", "Innehåll", "Content"),
        [NM_X_RECEIVED] = T("Saapui", "Inkom", "Received"),
        [NM_X_DUE] = T("Määräpäivä", "Förfallodag", "Due"),
        [NM_X_VERIFIED] = T("Henkilöllisyyden varmistus", "Verifiering av identitet",
                            "Identity verification"),
        [NM_X_STEPS] = T("Käsittelyvaiheet", "Handläggningssteg", "Steps"),
        [NM_X_SUBJECT] = T("Aihe", "Ämne", "Subject"),
        [NM_X_SENT] = T("Lähetetty", "Skickat", "Sent"),
        [NM_X_OPENS] = T("Avattu", "Öppnat", "Opened"),
        [NM_X_EVENT] = T("Tapahtuma", "Evenemang", "Event"),
        [NM_X_PLACE] = T("Paikka", "Plats", "Place"),
        [NM_X_CHOICES] = T("Valinnat", "Val", "Choices"),
        [NM_X_SESSION] = T("Ohjelma", "Programpunkt", "Session"),
        [NM_X_H_CHAT] = T("Viestisi tapahtumien keskusteluissa",
                          "Dina meddelanden i evenemangens chatt", "Your messages in event chats"),
        [NM_X_MESSAGE] = T("Viesti", "Meddelande", "Message"),
        [NM_DIRECTORY_CONTACTS] =
                T("Hakemistossa näytetään myös niiden yhteyshenkilöiden nimi ja tehtävä, jotka "
                  "yritys itse on valinnut julkaistaviksi, niin kauan kuin henkilö toimii "
                  "yrityksessä.",
                  "I katalogen visas också namn och uppgift för de kontaktpersoner som företaget "
                  "självt har valt att publicera, så länge personen verkar i företaget.",
                  "The directory also shows the name and role of the contact persons the company "
                  "itself chose to publish, for as long as the person works for the company."),
        [NM_X_H_DIRECTORY] = T("Julkaisu yrityshakemistossa", "Publicering i företagskatalogen",
                               "Published in the company directory"),
        [NM_X_SINCE] = T("Alkaen", "Sedan", "Since"),
        [NM_X_OTHER_INTRO] = T(
                "Sama sähköpostiosoite tai puhelinnumero on myös tässä saman rekisterinpitäjän "
                "rekisterissä. Alla ovat tiedot, jotka siinä on sinusta, ja tiedot niiden "
                "käsittelystä.",
                "Samma e-postadress eller telefonnummer finns också i detta register hos samma "
                "personuppgiftsansvarige. Nedan finns de uppgifter som registret har om dig och "
                "information om hur de behandlas.",
                "The same e-mail address or telephone number is also in this register of the same "
                "controller. Below is the data it holds about you, and how it is processed."),
        [NM_X_OTHER_SEPARATE] = T(
                "Sama sähköpostiosoite tai puhelinnumero on myös tässä saman rekisterinpitäjän "
                "rekisterissä. Sen tiedoista vastaa rekisterin oma vastuuhenkilö, joka vastaa "
                "sinulle niistä erikseen.",
                "Samma e-postadress eller telefonnummer finns också i detta register hos samma "
                "personuppgiftsansvarige. Registrets egen ansvarsperson svarar för dess uppgifter "
                "och besvarar din begäran om dem separat.",
                "The same e-mail address or telephone number is also in this register of the same "
                "controller. Its own manager answers for the data it holds and will answer you "
                "about it separately."),
};

static const char *const codes[LANG__MAX] = {"fi", "sv", "en"};

const char *nmsg(enum nmsg m, enum lang lang)
{
	if ((int)lang < 0 || lang >= LANG__MAX)
		lang = LANG_FI;
	if ((int)m < 0 || m >= NM__MAX || !msgs[m][lang])
		return "?";
	return msgs[m][lang];
}

int lang_from_code(const char *code)
{
	for (int i = 0; code && i < LANG__MAX; i++)
		if (strcmp(code, codes[i]) == 0)
			return i;
	return -1;
}

const char *lang_code(enum lang lang)
{
	return (int)lang >= 0 && lang < LANG__MAX ? codes[lang] : "fi";
}

/* Quality value "q=0.8" of an Accept-Language entry: 0 to 1000; -1 when malformed. */
static int quality(const char *s, const char *end)
{
	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	if (end - s < 3 || (s[0] != 'q' && s[0] != 'Q') || s[1] != '=')
		return -1;
	s += 2;
	int q = 0, scale = 1000, digits = 0;
	if (*s == '0' || *s == '1') {
		q = (*s - '0') * 1000;
		s++;
	} else {
		return -1;
	}
	if (s < end && *s == '.') {
		for (s++; s < end && *s >= '0' && *s <= '9' && digits < 3; s++, digits++) {
			scale /= 10;
			q += (*s - '0') * scale;
		}
	}
	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	return s == end && q <= 1000 ? q : -1;
}

enum lang lang_negotiate(const char *asked, const char *accept)
{
	int l = lang_from_code(asked);
	if (l >= 0)
		return (enum lang)l;
	int best = -1, best_q = 0;
	/* Bounded: a header is at most a few kilobytes, and each entry is looked at once. */
	for (const char *s = accept; s && *s;) {
		const char *end = strchr(s, ',');
		if (!end)
			end = s + strlen(s);
		while (s < end && (*s == ' ' || *s == '\t'))
			s++;
		const char *tag = s;
		while (s < end && ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')))
			s++;
		size_t taglen = (size_t)(s - tag);
		while (s < end && *s != ';')
			s++;
		int q = s < end ? quality(s + 1, end) : 1000;
		for (int k = 0; k < LANG__MAX && taglen == 2; k++) {
			bool same =
			        (tag[0] | 0x20) == codes[k][0] && (tag[1] | 0x20) == codes[k][1];
			if (same && q > best_q) {
				best = k;
				best_q = q;
			}
		}
		s = *end ? end + 1 : end;
	}
	return best >= 0 ? (enum lang)best : LANG_FI;
}

static const char *const months_en[12] = {"January",   "February", "March",    "April",
                                          "May",       "June",     "July",     "August",
                                          "September", "October",  "November", "December"};

const char *lang_date(enum lang lang, const char *iso, char out[32])
{
	int y, m, d;

	if (!iso || sscanf(iso, "%4d-%2d-%2d", &y, &m, &d) != 3 || m < 1 || m > 12 || d < 1 ||
	    d > 31 || y < 0)
		return iso;
	if (lang == LANG_EN)
		snprintf(out, 32, "%d %s %d", d, months_en[m - 1], y);
	else
		snprintf(out, 32, "%d.%d.%d", d, m, y);
	return out;
}
