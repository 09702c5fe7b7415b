"""The demo plans of the cases that reached monitoring (closed since, reopened, or monitored now):
their assessments and reassessments, interventions, check-ins and reassessment dates. Data only;
``demo_plans.PLANS`` holds every case's plan (see there)."""

from __future__ import annotations

from btam.assessments.demo import (
    CONCERN,
    EVALUATE,
    NO_CONCERN,
    PLAN,
    RESPOND,
    SAFETY,
    SERIOUS,
    THEMES,
    TRANSIENT,
    TREE,
    AfterReopen,
    CasePlan,
    Decision,
    DemoAssessment,
    DemoCheckIn,
    DemoIntervention,
    Evidence,
    LinkedTask,
    Method,
    Reschedule,
    Save,
)

MONITORED: dict[str, CasePlan] = {
    # Closed after monitoring ----------------------------------------------------------------------
    "locker-note": CasePlan(
        assessments=(
            DemoAssessment(
                TREE,
                0.14,
                (Save(0.16, {EVALUATE: "intent-or-unclear"}), Save(0.3, {RESPOND: "hurt-without-weapon"})),
                Decision(
                    0.36,
                    "moderate",
                    "A typed note saying 'you're next' left for one named student: a substantive threat to hurt "
                    "him. The writer, once identified, was angry about a seat change; no weapon and no plan found. "
                    "Moderate: protect the student who was targeted and put a plan in place.",
                ),
            ),
            DemoAssessment(
                TREE,
                0.76,
                (Save(0.77, TRANSIENT),),
                Decision(
                    0.78,
                    "low",
                    "The writer admitted the note, apologised at the restorative meeting and shows remorse; no "
                    "further note in four weeks and both boys sit apart calmly. Low: the conflict is resolved.",
                ),
                reassessment=True,
            ),
        ),
        interventions=(
            DemoIntervention(
                "parent-conference",
                0.38,
                "Meet both families with the principal: what happened and what the plan is.",
                ended=0.44,
                outcome="Both families met the principal; they support a restorative meeting.",
            ),
            DemoIntervention(
                "safety-plan",
                0.4,
                "A written plan: the writer keeps away from the other boy's locker; an adult at the lockers "
                "in the morning.",
                active=0.42,
                ended=0.9,
                outcome="Followed for six weeks without a further incident; ended with both families' agreement.",
            ),
            DemoIntervention(
                "target-protection-plan",
                0.4,
                "Tell the student who was targeted and his parents what the school does; a trusted adult he can go to.",
                active=0.42,
                ended=0.9,
                outcome="The student says he feels safe at school again; his parents agree the plan can end.",
            ),
            DemoIntervention(
                "supervision-check-in",
                0.45,
                "Four weekly check-ins with the student who wrote the note.",
                active=0.46,
                ended=0.88,
                outcome="Four check-ins held: calm, no contact with the other boy.",
            ),
        ),
        check_ins=(
            DemoCheckIn(
                0.72,
                "Weekly check-in with the student who wrote the note: calm, keeps to his new seat, no contact "
                "with the other boy.",
                intervention="supervision-check-in",
            ),
            DemoCheckIn(0.8, "The homeroom teacher reports no incident between the two boys.", Method.STAFF_REPORT),
            DemoCheckIn(
                0.86,
                "The mother of the student who was targeted says he goes to school without worry now.",
                Method.PARENT,
            ),
        ),
    ),
    # Reopened: closed, then reopened after a new post; back in monitoring -----------------------------
    "weapon-posts": CasePlan(
        assessments=(
            DemoAssessment(
                THEMES,
                0.14,
                (
                    Save(
                        0.18,
                        {
                            "motives": Evidence(
                                CONCERN,
                                "Wants to get back at the students he fought with at the skate park over a stolen "
                                "phone.",
                                "Interview with the student and his mother",
                            ),
                            "communications": Evidence(
                                CONCERN,
                                "Posted that he will 'bring something' to school on Monday; others shared it.",
                                "The post and the comments under it",
                            ),
                            "stressors": Evidence(
                                CONCERN,
                                "The fight, and losing his phone; grades had slipped.",
                                "Interview with the student",
                            ),
                            "emotional-developmental": Evidence(
                                NO_CONCERN, "No known emotional or developmental difficulty.", "Records review"
                            ),
                            "desperation-suicidality": Evidence(
                                NO_CONCERN,
                                "No sign of hopelessness; looks forward to the basketball season.",
                                "Interview with the student",
                            ),
                            "trusted-adult": Evidence(
                                NO_CONCERN, "Talks with his basketball coach every day.", "Interview with the coach"
                            ),
                            "connection-and-belonging": Evidence(
                                NO_CONCERN,
                                "On the basketball team, with friends outside the group he fought with.",
                                "Interview with the coach",
                            ),
                            "openness-to-help": Evidence(
                                NO_CONCERN,
                                "Agreed to monthly meetings with the counselor.",
                                "Interview with the student",
                            ),
                        },
                    ),
                    Save(
                        0.24,
                        {
                            "weapon-access": Evidence(
                                NO_CONCERN,
                                "Home visit with the parents' agreement: no weapons in the home.",
                                "Home visit (SRO)",
                            ),
                            "interest-in-weapons-attacks": Evidence(
                                NO_CONCERN,
                                "No posts or searches about weapons or attacks in his public accounts.",
                                "Review of public posts (SRO)",
                            ),
                            "capacity": Evidence(
                                NO_CONCERN, "No weapon, and no way found to get one.", "Home visit (SRO)"
                            ),
                        },
                        by="sro",
                    ),
                    Save(
                        0.3,
                        {
                            "violence-acceptable": Evidence(
                                CONCERN,
                                "Says fights are how things get settled at the park.",
                                "Interview with the student",
                            ),
                            "concern-by-others": Evidence(
                                CONCERN,
                                "Several students shared the post and told staff they were afraid.",
                                "Reports and the shared post",
                            ),
                            "consistency": Evidence(
                                NO_CONCERN,
                                "Nothing he did matches the post: no weapon, no plan, no date other than 'Monday'.",
                                "Interviews and the home visit",
                            ),
                        },
                    ),
                ),
                Decision(
                    0.36,
                    "moderate",
                    "Intent to retaliate after a fight, and a public threat that frightened others; no weapon in "
                    "the home, no plan, and good supports. Moderate: a management plan.",
                ),
            ),
            DemoAssessment(
                TREE,
                0.78,
                (Save(0.79, TRANSIENT),),
                Decision(
                    0.8,
                    "low",
                    "The phone was returned and the two groups made peace; no new post in two months and the "
                    "check-ins are calm. Low: the plan can be completed.",
                ),
                reassessment=True,
            ),
        ),
        interventions=(
            DemoIntervention(
                "law-enforcement-referral",
                0.37,
                "Consult the SRO: a home visit about access to weapons, with the parents' agreement.",
                owner="sro",
                active=0.38,
                ended=0.45,
                outcome="Home visit done: no weapons in the home. No police action needed.",
            ),
            DemoIntervention(
                "parent-conference",
                0.38,
                "Meet the student and his mother about the post and the plan.",
                ended=0.41,
                outcome="The mother agreed to the plan and to the home visit.",
            ),
            DemoIntervention(
                "safety-plan",
                0.4,
                "A written plan: no contact with the other group, the coach checks in daily, a bag check for "
                "two weeks.",
                active=0.43,
                ended=0.9,
                outcome="Followed for three months without an incident.",
            ),
            DemoIntervention(
                "supervision-check-in",
                0.44,
                "Monthly meeting with the school counselor.",
                active=0.45,
                ended=0.9,
                outcome="Monthly check-ins held: calm, attending, grades back up.",
            ),
        ),
        check_ins=(
            DemoCheckIn(
                0.72,
                "Monthly check-in: calm, attending every day, grades back up.",
                intervention="supervision-check-in",
            ),
            DemoCheckIn(
                0.84,
                "The coach reports no trouble with the other group at practice or at the park.",
                Method.STAFF_REPORT,
            ),
        ),
        after_reopen=AfterReopen(
            check_in=DemoCheckIn(
                1.0,
                "Met the student after the new post. He is angry again at the same group after a new argument; "
                "he says he will not do anything. A new concern: the team reassesses this week.",
                concern=True,
            ),
            reschedule=Reschedule(
                2, "A new post after the case was reopened: the team reassesses this week, not in the spring."
            ),
            reassessment=DemoAssessment(TREE, 1.0, (Save(1.0, {EVALUATE: "intent-or-unclear"}),), reassessment=True),
        ),
    ),
    # Monitoring -------------------------------------------------------------------------------------
    "game-fight": CasePlan(
        assessments=(
            DemoAssessment(
                TREE,
                0.14,
                (
                    Save(0.16, {EVALUATE: "intent-or-unclear"}),
                    Save(0.24, {RESPOND: "hurt-without-weapon"}, by="sro"),
                ),
                Decision(
                    0.36,
                    "moderate",
                    "A threatened group fight after a game, with talk of bats; the students named say it was 'just "
                    "talk', but two are still angry about a post. No weapon found. Moderate: keep the groups apart "
                    "and mediate.",
                ),
            ),
            DemoAssessment(
                TREE,
                0.74,
                (Save(0.75, TRANSIENT),),
                Decision(
                    0.76,
                    "low",
                    "Mediation held and kept: no threat, post or gathering in six weeks. Low: the plan can be "
                    "completed.",
                ),
                reassessment=True,
            ),
        ),
        interventions=(
            DemoIntervention(
                "community-protection",
                0.3,
                "The SRO in the parking lot on Monday morning and after the next two games.",
                owner="sro",
                active=0.31,
                ended=0.6,
                outcome="No gathering on Monday or after the games.",
            ),
            DemoIntervention(
                "parent-conference",
                0.38,
                "Call the parents of the four students named.",
                ended=0.44,
                outcome="All four families told; they support the mediation.",
            ),
            DemoIntervention(
                "safety-plan",
                0.4,
                "A written plan: the two groups kept apart at lunch and after games; staff at the parking lot exits.",
                active=0.43,
                ended=0.9,
                outcome="Followed for eight weeks without an incident.",
            ),
            DemoIntervention(
                "resource-connection",
                0.45,
                "Mediation between the two groups by the school's peer-mediation program.",
                active=0.5,
                ended=0.6,
                outcome="Mediation held; the students agreed to stop posting about each other.",
            ),
        ),
        check_ins=(
            DemoCheckIn(0.72, "Lunch and the parking lot calm this week, the coach says.", Method.STAFF_REPORT),
            DemoCheckIn(0.82, "Met two of the students: no new posts, they keep to the agreement."),
            DemoCheckIn(0.88, "Attendance and discipline records: no incident since the mediation.", Method.RECORDS),
        ),
    ),
    "teacher-note": CasePlan(
        assessments=(
            DemoAssessment(
                TREE,
                0.14,
                (Save(0.18, SERIOUS),),
                Decision(
                    0.36,
                    "moderate",
                    "An unsigned written threat to a named teacher, from a student ashamed of a failing grade; no "
                    "means or plan, remorse once identified. Moderate: a management plan and monthly check-ins.",
                ),
            ),
        ),
        interventions=(
            DemoIntervention(
                "parent-conference",
                0.38,
                "Meet the parents with the principal and the teacher.",
                ended=0.45,
                outcome="The parents met the principal and the teacher; tutoring agreed.",
            ),
            DemoIntervention(
                "safety-plan",
                0.4,
                "A written plan: the student stays away from the staff mailboxes; a trusted adult to go to when "
                "upset about grades.",
                active=0.42,
            ),
            DemoIntervention("resource-connection", 0.46, "Tutoring in math after school.", active=0.5),
            DemoIntervention(
                "supervision-check-in",
                0.48,
                "Monthly check-in with the student.",
                active=0.5,
                task=LinkedTask("Ask the math tutor how the sessions are going", 0.85, due="soon"),
            ),
        ),
        check_ins=(
            DemoCheckIn(
                0.74,
                "Monthly check-in: grades improving, no incident; he likes the tutoring.",
                intervention="supervision-check-in",
            ),
            DemoCheckIn(
                0.92,
                "The teacher named in the note reports that the student is polite and working hard.",
                Method.STAFF_REPORT,
            ),
        ),
    ),
    "self-harm-others": CasePlan(
        assessments=(
            DemoAssessment(
                TREE,
                0.13,
                (
                    Save(0.14, {EVALUATE: "intent-or-unclear"}),
                    Save(0.2, {RESPOND: "not-sure", SAFETY: "precautions-taken"}),
                    Save(0.3, {PLAN: "plan-in-place"}),
                ),
                Decision(
                    0.34,
                    "high",
                    "Suicidal statements with a threat to 'take others with him', after his brother left home; no "
                    "plan and no access to weapons found, and a protective family. High until the counseling and "
                    "the safety plan are in place.",
                    approved_at=0.37,
                ),
            ),
            DemoAssessment(
                THEMES,
                0.55,
                (
                    Save(
                        0.56,
                        {
                            "motives": Evidence(
                                NO_CONCERN,
                                "No wish to hurt anyone; says he was 'at the bottom' when he said it.",
                                "Interview with the student",
                            ),
                            "communications": Evidence(
                                NO_CONCERN,
                                "No statement about harming himself or others since the first week.",
                                "Check-ins and the therapist (with consent)",
                            ),
                            "interest-in-weapons-attacks": Evidence(
                                NO_CONCERN, "None found at school or at home.", "Parents and teachers"
                            ),
                            "weapon-access": Evidence(
                                NO_CONCERN, "No weapons at home; medicines locked away.", "The parents"
                            ),
                            "stressors": Evidence(
                                CONCERN,
                                "Misses his brother, who left home; the visits are irregular.",
                                "Interview with the student",
                            ),
                            "emotional-developmental": Evidence(
                                CONCERN, "Low mood, treated in weekly therapy.", "The therapist (with consent)"
                            ),
                            "desperation-suicidality": Evidence(
                                CONCERN,
                                "Better, but still has hard days; the safety plan says what to do then.",
                                "The therapist (with consent)",
                            ),
                        },
                    ),
                    Save(
                        0.57,
                        {
                            "violence-acceptable": Evidence(
                                NO_CONCERN, "Says hurting people solves nothing.", "Interview with the student"
                            ),
                            "concern-by-others": Evidence(
                                NO_CONCERN,
                                "The friend who reported it says he is 'more like himself'.",
                                "Interview with the friend",
                            ),
                            "capacity": Evidence(NO_CONCERN, "No means and no plan found.", "The parents and the SRO"),
                            "consistency": Evidence(
                                NO_CONCERN, "What he says matches what staff see.", "Teachers' reports"
                            ),
                            "trusted-adult": Evidence(
                                NO_CONCERN, "Goes to the school counselor on his own.", "The counselor"
                            ),
                            "connection-and-belonging": Evidence(
                                NO_CONCERN, "Back in the art club; eats lunch with two friends.", "Teachers' reports"
                            ),
                            "openness-to-help": Evidence(NO_CONCERN, "Keeps every therapy appointment.", "The parents"),
                        },
                    ),
                ),
                Decision(
                    0.58,
                    "moderate",
                    "Weekly therapy since the first week, no more statements about harming himself or others, and "
                    "the safety plan followed at home and at school. Moderate: keep the plan and the check-ins.",
                ),
                reassessment=True,
            ),
        ),
        interventions=(
            DemoIntervention(
                "crisis-intervention",
                0.13,
                "Suicide risk screening by the school psychologist the same day; the parents called at once.",
                ended=0.15,
                outcome="Screening done the same day; the parents took him to his doctor that evening.",
            ),
            DemoIntervention(
                "parent-conference",
                0.16,
                "Meet the parents about the screening, therapy and the plan.",
                ended=0.2,
                outcome="The parents made an appointment with a therapist and locked away medicines.",
            ),
            DemoIntervention(
                "mental-health-evaluation",
                0.2,
                "Evaluation and weekly therapy with an outside therapist (with consent).",
                active=0.25,
            ),
            DemoIntervention(
                "safety-plan",
                0.38,
                "A written plan: the adults he goes to, a daily check-in, what the family does at home.",
                active=0.45,
            ),
            DemoIntervention(
                "supervision-check-in",
                0.4,
                "Check-in every morning with the school counselor, then every two weeks.",
                active=0.42,
                task=LinkedTask("Ask the parents how the week went at home", 0.9, due="soon"),
            ),
        ),
        safety_plan={
            "warning_signs": "Talks about being 'done with everything'; skips lunch; stays in his room at home. "
            "A cancelled visit from his brother has set things off before.",
            "supervision": "Check-in with the school counselor every morning before first period; every two weeks "
            "once the team agrees.",
            "trusted_adults": "The school counselor (room 108), the art teacher, his mother. Crisis line: 988.",
            "restrictions": "None at school.",
            "parent_role": "Medicines locked away; the parents call the counselor after a hard evening and keep the "
            "therapy appointments.",
        },
        safety_plan_at=0.45,
        check_ins=(
            DemoCheckIn(
                0.72,
                "Check-in: attending, says the sessions help; sleeping better.",
                intervention="supervision-check-in",
            ),
            DemoCheckIn(
                0.84,
                "His mother called: a hard week after his brother cancelled a visit; he said he feels 'done with "
                "everything'. The counselor met him the same day and told the therapist, with consent.",
                Method.PARENT,
                concern=True,
            ),
            DemoCheckIn(
                0.93,
                "Check-in after the hard week: calmer, saw his therapist twice; he knows whom to go to.",
                intervention="supervision-check-in",
            ),
        ),
    ),
}
